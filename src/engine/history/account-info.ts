import type {Catalog} from '../catalog/catalog.js'

import {type Certainty, certaintyOf} from './account-certainty-view.js'
import {type AccountEntry, findAccount} from './account-lookup.js'

export interface AccountInfo {
  account: AccountEntry
  /** Every address the account had, oldest first (renames). */
  names: string[]
  certainty: Certainty
  counts: {
    /** Items the backup knows, whatever their state now. */
    items: number
    /** Items whose current state is not deleted. */
    liveItems: number
    deletedItems: number
    /** States of all those items (each transaction adds one). */
    revisions: number
    /** Folders that exist now. */
    folders: number
    deletedFolders: number
  }
  blobs: {
    /** Distinct contents that any state of the account references. */
    referenced: number
    /** Their raw size: what the account's whole history holds, each content counted once. */
    referencedBytes: number
    /** Of those, how many and how big on disk (gzip) are in the blob store. */
    stored: number
    storedBytes: number
  }
  /** The newest transaction applied to the account (its time and redolog seq). */
  lastTransaction: {seq: null | number; time: null | number}
}

/** What the backup holds for one account. */
export async function accountInfo(catalog: Catalog, accountName: string): Promise<AccountInfo> {
  const account = await findAccount(catalog, accountName)
  const {db} = catalog
  const itemIds = db('items').where('account_id', account.key).select('id')
  const [items] = await db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .where('i.account_id', account.key)
  .whereNull('r.valid_to')
  .select(
    db.raw('COUNT(*) as total'),
    db.raw('SUM(CASE WHEN r.deleted = ? THEN 1 ELSE 0 END) as deleted', [true]),
  )
  const [revisions] = await db('item_revisions as r')
  .whereIn('r.item_id', itemIds)
  .select(db.raw('COUNT(*) as n'), db.raw('MAX(r.valid_from) as last_time'), db.raw('MAX(r.txn_seq) as last_seq'))
  const [folders] = await db('folders as f')
  .join('folder_revisions as r', 'r.folder_id', 'f.id')
  .where('f.account_id', account.key)
  .whereNull('r.valid_to')
  .select(
    db.raw('COUNT(*) as total'),
    db.raw('SUM(CASE WHEN r.deleted = ? THEN 1 ELSE 0 END) as deleted', [true]),
    db.raw('MAX(r.valid_from) as last_time'),
    db.raw('MAX(r.txn_seq) as last_seq'),
  )
  const [blobs] = await db('blobs as b')
  .whereIn('b.digest', db('item_revisions').whereIn('item_id', itemIds).whereNotNull('blob_digest').distinct('blob_digest'))
  .select(
    db.raw('COUNT(*) as referenced'),
    db.raw('SUM(b.size) as referenced_bytes'),
    db.raw('SUM(CASE WHEN b.stored = ? THEN 1 ELSE 0 END) as stored', [true]),
    db.raw('SUM(CASE WHEN b.stored = ? THEN b.stored_size ELSE 0 END) as stored_bytes', [true]),
  )
  const accountRevisions: Array<{name: string; valid_from: number}> = await db('account_revisions')
  .where('account_id', account.key)
  .orderBy([{column: 'valid_from'}, {column: 'id'}])
  .select('name', 'valid_from')
  const names = [...new Set(accountRevisions.map(r => r.name))]
  const lastTime = maxOf(revisions.last_time, folders.last_time, accountRevisions.at(-1)?.valid_from)
  const itemTotal = Number(items.total)
  const itemsDeleted = Number(items.deleted ?? 0)
  const folderTotal = Number(folders.total)
  const foldersDeleted = Number(folders.deleted ?? 0)
  return {
    account,
    names,
    certainty: await certaintyOf(db, account.key),
    counts: {
      items: itemTotal,
      liveItems: itemTotal - itemsDeleted,
      deletedItems: itemsDeleted,
      revisions: Number(revisions.n),
      folders: folderTotal - foldersDeleted,
      deletedFolders: foldersDeleted,
    },
    blobs: {
      referenced: Number(blobs.referenced),
      referencedBytes: Number(blobs.referenced_bytes ?? 0),
      stored: Number(blobs.stored ?? 0),
      storedBytes: Number(blobs.stored_bytes ?? 0),
    },
    lastTransaction: {seq: maxOf(revisions.last_seq, folders.last_seq), time: lastTime},
  }
}

function maxOf(...values: Array<null | number | string | undefined>): null | number {
  const numbers = values.filter(v => v !== null && v !== undefined).map(Number)
  return numbers.length === 0 ? null : Math.max(...numbers)
}
