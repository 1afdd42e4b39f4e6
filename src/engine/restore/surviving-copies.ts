import type {Catalog} from '../catalog/catalog.js'
import type {FolderHistory} from '../history/folder-history.js'
import type {ItemRevision} from '../history/item-revision.js'

import {inboxKey} from '../folder-path.js'

/** Which copies to count: the folder they are in now and, per content digest, the moment they must be older than. */
export interface CopiesQuery {
  /** The folder's path as the catalog names it now ("/INBOX/Sub"). */
  path: string
  /**
   * Per digest, only items the backup saw before this moment (ms): the message being restored was deleted (or left
   * the folder) then; null: any live copy.
   */
  seenBefore: ReadonlyMap<string, null | number>
  /** The item being restored, never a copy of itself. */
  except?: string
}

/** Digests per query: a bounded IN list. */
const CHUNK = 500

/**
 * How many live messages of the account, in a folder, have the same content as a message being brought back and
 * were already there when it was deleted, per digest. Two identical messages of a folder are two messages: when one
 * is deleted, the other is no sign that the deleted one is "still there", so a restore must not take it for it (it
 * did, and the deleted copy never came back). A copy the backup saw only after the deletion may be that message put
 * back by an earlier restore (or delivered again), so it still stands for it: a second run adds nothing.
 */
export async function survivingCopies(catalog: Catalog, accountKey: number, folders: FolderHistory, query: CopiesQuery): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  const digests = [...query.seenBefore.keys()]
  for (let start = 0; start < digests.length; start += CHUNK) {
    let rows = catalog.db('items as i')
    .join('item_revisions as r', 'r.item_id', 'i.id')
    .where('i.account_id', accountKey)
    .andWhere('i.type', 'message')
    .whereNull('r.valid_to')
    .andWhere('r.deleted', false)
    .whereIn('r.blob_digest', digests.slice(start, start + CHUNK))
    if (query.except !== undefined) rows = rows.andWhereNot('i.remote_id', query.except)
    const live: Array<{blob_digest: string; first_seen: number | string; folder_remote_id: null | string}> = await rows
    .select('r.blob_digest', 'i.first_seen', 'r.folder_remote_id')
    for (const row of live) {
      const before = query.seenBefore.get(row.blob_digest)
      if (before !== null && before !== undefined && Number(row.first_seen) >= before) continue
      if (!sameFolder(folders.pathAt(row.folder_remote_id, 'last'), query.path)) continue
      counts.set(row.blob_digest, (counts.get(row.blob_digest) ?? 0) + 1)
    }
  }

  return counts
}

/**
 * For doItemRestore of one item into a folder (its own, or a restore_folder): since when a copy of its content there
 * may be the item itself, put back by an earlier restore (survivingCopies' seenBefore). A restore appends the item
 * only into a folder that lacks it, so only after the item's last stay in that folder ended (moved elsewhere or
 * deleted); copies the backup saw before then were there beside it, other messages. Null while the item is there
 * now: every other copy is another message. For a folder the item never was in, from when the backup first saw it.
 * Before, only the item's deletion counted: an item restored into its old folder while it lived on in another was,
 * restored again, taken for another message and appended a second time.
 */
export function copiesMayBeItselfFrom(states: readonly ItemRevision[], folders: FolderHistory, path: string): null | number {
  const stays = states.filter(state => !state.deleted && sameFolder(folders.homePath(state.folder, state.validFrom), path))
  return stays.length === 0 ? states[0].validFrom : stays.at(-1)!.validTo
}

function sameFolder(a: string, b: string): boolean {
  return inboxKey(a) === inboxKey(b)
}
