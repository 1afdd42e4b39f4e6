import type {Catalog} from '../catalog/catalog.js'
import type {AccountEntry} from '../history/account-lookup.js'
import type {FolderHistory} from '../history/folder-history.js'

import {
  type ItemRevision, REVISION_COLUMNS, revisionFromRow, type RevisionRow,
} from '../history/item-revision.js'
import {compareArrival} from './server-order.js'

/** A message deleted in a window, with the state that comes back. */
export interface DeletedMessage {
  /** The server's item id. */
  id: string
  /** When the deletion (the last one in the window) happened. */
  deletedAt: number
  /** The last state before that deletion: its bytes, flags, keywords and internal date come back. */
  state: ItemRevision
  /** When the life that this deletion ended began (the item created, or created anew after an earlier deletion). */
  liveSince: number
  /**
   * Where it comes back: its folder before the deletion, by the name it has now (renamed since, it is still that
   * folder), or by the name it had then when the folder is gone (to be created again).
   */
  folderPath: string
  /** The item is live again under the same id (a redolog item created anew): nothing to bring back. */
  liveNow: boolean
  /**
   * The deletions of the item in the window, each ending a life of it: more than one when the message came back
   * under its own id and was deleted again (an undelete that the capture took, within minutes, for the item again).
   * Only the last comes back; the user deleted the message that many times.
   */
  deletions: number
}

/** Deletions between `from` and `to` (inclusive, ms); null is open (first, last). */
export interface DeletionWindow {
  from: null | number
  to: null | number
}

const PAGE = 500

/** Carbonio's Trash keeps id 3 in every mailbox; an IMAP server marks its Trash with the \Trash special use. */
const CARBONIO_TRASH_ID = '3'

/**
 * The messages of an account whose deletion (a revision with deleted=true: an item deleted or expunged, a folder
 * emptied or deleted) falls in the window, each with the state to bring back. A message that went to the Trash
 * before being deleted there goes back to the folder it was in before the Trash, as Carbonio's undelete does; one
 * that never was anywhere else goes back to the Trash. Sorted by folder path, then item id.
 */
export async function deletedMessages(
  catalog: Catalog,
  account: AccountEntry,
  window: DeletionWindow,
  folders: FolderHistory,
): Promise<DeletedMessage[]> {
  let query = catalog.db('items as i')
  .join('item_revisions as d', 'd.item_id', 'i.id')
  .where('i.account_id', account.key)
  .andWhere('i.type', 'message')
  .andWhere('d.deleted', true)
  if (window.from !== null) query = query.andWhere('d.valid_from', '>=', window.from)
  if (window.to !== null) query = query.andWhere('d.valid_from', '<=', window.to)
  const deletions: Array<{deleted_at: number | string; id: number; remote_id: string}> = await query
  .groupBy('i.id', 'i.remote_id')
  .orderBy('i.id')
  .select('i.id', 'i.remote_id')
  .max({deleted_at: 'd.valid_from'})

  const found: DeletedMessage[] = []
  for (let start = 0; start < deletions.length; start += PAGE) {
    const page = deletions.slice(start, start + PAGE)
    const rows: Array<RevisionRow & {item_id: number}> = await catalog.db('item_revisions as r')
    .leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
    .whereIn('r.item_id', page.map(d => d.id))
    .orderBy([{column: 'r.item_id'}, {column: 'r.valid_from'}, {column: 'r.id'}])
    .select(['r.item_id', ...REVISION_COLUMNS])
    const byItem = new Map<number, ItemRevision[]>()
    for (const row of rows) {
      const key = Number(row.item_id)
      const list = byItem.get(key) ?? []
      list.push(revisionFromRow(row))
      byItem.set(key, list)
    }

    for (const deletion of page) {
      const message = beforeDeletion({id: deletion.remote_id, deletedAt: Number(deletion.deleted_at)}, byItem.get(Number(deletion.id)) ?? [], folders, window)
      if (message) found.push(message)
    }
  }

  return found.sort((a, b) => compare(a.folderPath, b.folderPath) || compareArrival({id: a.id, locator: a.state.locator}, {id: b.id, locator: b.state.locator}))
}

function beforeDeletion(
  {deletedAt, id}: {deletedAt: number; id: string},
  revisions: ItemRevision[],
  folders: FolderHistory,
  window: DeletionWindow,
): DeletedMessage | undefined {
  const deletion = revisions.findLastIndex(r => r.deleted && r.validFrom === deletedAt)
  const stateIndex = revisions.findLastIndex((r, index) => index < deletion && !r.deleted)
  // A deletion with no live state before it (a feed that deleted an item it never created) brings nothing back.
  if (deletion === -1 || stateIndex === -1) return undefined
  const state = revisions[stateIndex]
  const place = originalPlace(revisions, stateIndex, deletedAt, folders)
  let lifeStart = stateIndex
  while (lifeStart > 0 && !revisions[lifeStart - 1].deleted) lifeStart--
  return {
    id,
    deletedAt,
    state,
    liveSince: revisions[lifeStart].validFrom,
    folderPath: folders.homePath(place.folder, place.at),
    liveNow: revisions.at(-1)?.deleted === false,
    deletions: revisions.filter((r, index) => r.deleted && index > 0 && !revisions[index - 1].deleted && inWindow(r.validFrom, window)).length,
  }
}

function inWindow(at: number, {from, to}: DeletionWindow): boolean {
  return (from === null || at >= from) && (to === null || at <= to)
}

/** The folder a state comes back to, and the moment whose folder path names it. */
function originalPlace(revisions: ItemRevision[], stateIndex: number, deletedAt: number, folders: FolderHistory): {at: number; folder: null | string} {
  const state = revisions[stateIndex]
  const at = Math.max(state.validFrom, deletedAt - 1)
  if (!isTrash(folders, state.folder, at)) return {folder: state.folder, at}
  // Deleted in the Trash: the folder it was in before it went there, within the same life of the item.
  for (let index = stateIndex - 1; index >= 0 && !revisions[index].deleted; index--) {
    const earlier = revisions[index]
    const left = revisions[index + 1].validFrom
    const when = Math.max(earlier.validFrom, left - 1)
    if (earlier.folder !== null && !isTrash(folders, earlier.folder, when)) return {folder: earlier.folder, at: when}
  }

  return {folder: state.folder, at}
}

function isTrash(folders: FolderHistory, folder: null | string, at: number): boolean {
  if (folder === null) return false
  if (folder === CARBONIO_TRASH_ID) return true
  const {specialUse} = folders.metadataAt(folder, at)
  return typeof specialUse === 'string' && specialUse.toLowerCase() === String.raw`\trash`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : (a > b ? 1 : 0)
}
