import type {Catalog} from '../catalog/catalog.js'
import type {FolderHistory} from '../history/folder-history.js'

/** Which copies to count: the content, the folder they are in now, and the moment they must be older than. */
export interface CopiesQuery {
  /** The folder's path as the catalog names it now ("/INBOX/Sub"). */
  path: string
  digest: string
  /** Only items the backup saw before this moment (ms): the message being restored was deleted then; null: any. */
  seenBefore: null | number
  /** The item being restored, never a copy of itself. */
  except?: string
}

/**
 * How many live messages of the account, in a folder, have the same content as a message being brought back and
 * were already there when it was deleted. Two identical messages of a folder are two messages: when one is deleted,
 * the other is no sign that the deleted one is "still there", so a restore must not take it for it (it did, and the
 * deleted copy never came back). A copy the backup saw only after the deletion may be that message put back by an
 * earlier restore (or delivered again), so it still stands for it: a second run adds nothing.
 */
export async function survivingCopies(catalog: Catalog, accountKey: number, folders: FolderHistory, query: CopiesQuery): Promise<number> {
  let rows = catalog.db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .where('i.account_id', accountKey)
  .andWhere('i.type', 'message')
  .whereNull('r.valid_to')
  .andWhere('r.deleted', false)
  .andWhere('r.blob_digest', query.digest)
  if (query.seenBefore !== null) rows = rows.andWhere('i.first_seen', '<', query.seenBefore)
  if (query.except !== undefined) rows = rows.andWhereNot('i.remote_id', query.except)
  const live: Array<{folder_remote_id: null | string}> = await rows.select('r.folder_remote_id')
  return live.filter(row => sameFolder(folders.pathAt(row.folder_remote_id, 'last'), query.path)).length
}

/** IMAP's INBOX is case-insensitive; every other name is compared exactly ("Case" and "case" are two folders). */
function sameFolder(a: string, b: string): boolean {
  return inboxCase(a) === inboxCase(b)
}

function inboxCase(path: string): string {
  return path.replace(/^\/inbox(?=\/|$)/i, '/INBOX')
}
