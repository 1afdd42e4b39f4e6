import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

import {
  absenceReason, type AccountEntry, existedAt, findAccount,
} from './account-lookup.js'
import {type FolderAt, FolderHistory} from './folder-history.js'
import {type HistoryTime, whereValidAt} from './history-time.js'
import {
  type ItemRevision, REVISION_COLUMNS, revisionFromRow, type RevisionRow,
} from './item-revision.js'

/** A live item of an account at a moment: its identity and the state it had then. */
export interface ItemAt extends ItemRevision {
  /** The server's item id. */
  id: string
  type: string
  /** When the backup first saw the item (its creation, for items the scanner saw created). */
  firstSeen: number
  /** The path of its folder at that moment. */
  folderPath: string
}

export interface ItemPageOptions {
  /** Rows per query: memory stays flat whatever the size of the account. */
  pageSize?: number
  /** Only these item types. */
  types?: readonly string[]
}

/** An account as it was at a moment. */
export interface AccountStateAt {
  account: AccountEntry
  at: HistoryTime
  /**
   * Whether the account existed then. A deleted account has no live state after its deletion (its folders and
   * items are not shown as if it were alive): read it at a time before `deletedAt` instead, as `absence` says.
   */
  exists: boolean
  absence: null | string
  /** Live folders at that moment, sorted by path (none when the account did not exist). */
  folders: FolderAt[]
  /** The folder tree over the whole history, to name the folder of any state. */
  folderHistory: FolderHistory
  /** Live items at that moment, read page by page in the order of their server id. */
  items(options?: ItemPageOptions): AsyncGenerator<ItemAt>
}

export interface ItemRow extends RevisionRow {
  remote_id: string
  type: string
  first_seen: number
}

const DEFAULT_PAGE = 500

/**
 * The folders and live items of an account as they were at `at`: for each item, its revision valid at that moment
 * (valid_from <= at < valid_to, or still open), unless that revision records its deletion. `at = 'last'` is the
 * current state. Items are streamed in pages, so an account of any size reads in constant memory.
 */
export async function stateAt(catalog: Catalog, account: AccountEntry | string, at: HistoryTime): Promise<AccountStateAt> {
  const entry = typeof account === 'string' ? await findAccount(catalog, account, at) : account
  const folderHistory = await FolderHistory.load(catalog.db, entry.key)
  const exists = existedAt(entry, at)
  return {
    account: entry,
    at,
    exists,
    absence: exists ? null : absenceReason(entry, at),
    folders: exists ? folderHistory.foldersAt(at) : [],
    folderHistory,
    items: options => (exists ? pageItems(catalog, liveItemScope(entry, at, folderHistory), options) : noItems()),
  }
}

/** What liveItemsQuery reads for an account at a moment. */
export function liveItemScope(account: AccountEntry, at: HistoryTime, folders: FolderHistory): LiveItemScope {
  return {accountKey: account.key, at, folders}
}

async function * noItems(): AsyncGenerator<ItemAt> {
  // An account that did not exist at that moment has no items.
}

async function * pageItems(
  catalog: Catalog,
  scope: LiveItemScope,
  options: ItemPageOptions = {},
): AsyncGenerator<ItemAt> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE
  let after: null | string = null
  for (;;) {
    // Keyset paging on (account_id, remote_id), the unique index of items: each page is one index range scan,
    // never an OFFSET that rereads everything before it.
    let query = liveItemsQuery(catalog, scope)
    if (after !== null) query = query.andWhere('i.remote_id', '>', after)
    if (options.types) query = query.whereIn('i.type', options.types)
    const rows: ItemRow[] = await query.orderBy('i.remote_id').limit(pageSize).select(ITEM_COLUMNS)
    for (const row of rows) yield itemAtFromRow(row, scope)
    if (rows.length < pageSize) return
    after = rows.at(-1)!.remote_id
  }
}

/** Which live items a query reads: an account's, at a moment, with the folder tree that names their folders. */
export interface LiveItemScope {
  accountKey: number
  at: HistoryTime
  folders: FolderHistory
}

/**
 * The items of the account (or only `keys`, items of the account by their catalog key) with their revision valid at
 * the moment, deletions left out (ITEM_COLUMNS to select).
 */
export function liveItemsQuery(catalog: Catalog, {accountKey, at}: LiveItemScope, keys?: readonly number[]): Knex.QueryBuilder {
  let query = catalog.db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
  // Items by key without their account: with it, SQLite walks the account's whole index for each page of keys (0.16 s
  // a page at 100,000 messages, a restore of a million-message account spending most of an hour there).
  query = keys ? query.whereIn('i.id', keys) : query.where('i.account_id', accountKey)
  return whereValidAt(query.andWhere('r.deleted', false), 'r', at)
}

export const ITEM_COLUMNS = ['i.remote_id', 'i.type', 'i.first_seen', ...REVISION_COLUMNS]

export function itemAtFromRow(row: ItemRow, {at, folders}: LiveItemScope): ItemAt {
  const revision = revisionFromRow(row)
  return {
    id: row.remote_id,
    type: row.type,
    firstSeen: Number(row.first_seen),
    folderPath: folders.pathAt(revision.folder, at),
    ...revision,
  }
}
