import type {Catalog} from '../catalog/catalog.js'

import {UsageError} from '../errors.js'
import {type AccountEntry, findAccount} from './account-lookup.js'
import {FolderHistory} from './folder-history.js'
import {arrivalSql} from './item-arrival.js'
import {
  type ItemRevision, REVISION_COLUMNS, revisionFromRow, type RevisionRow,
} from './item-revision.js'
import {
  foldedColumn, LIKE_ESCAPE, likePattern, metadataContains,
} from './search-pattern.js'

export type SearchFilter = 'all' | 'deleted' | 'not_deleted'
export const SEARCH_FILTERS: readonly SearchFilter[] = ['all', 'deleted', 'not_deleted']

export interface ItemSearch {
  /** Case-insensitive text to find in any string value of the metadata (subject, from, to, names, summary...). */
  text?: string
  type?: string
  /** Items that came into the mailbox before this time (ms, exclusive): see arrivalSql. */
  before?: number
  /** Items that came into the mailbox at or after this time (ms, inclusive). */
  after?: number
  /** On the item's current state: deleted now, not deleted now, or both. */
  filter?: SearchFilter
  /** At most this many matches (the rest is counted as truncated). */
  limit?: number
}

/** A matching item with its current state. */
export interface ItemMatch extends ItemRevision {
  id: string
  type: string
  firstSeen: number
  /** When the item came into its mailbox (arrivalSql): a message's internal date where known, else firstSeen. */
  arrivedAt: number
  folderPath: string
  /** When the item was deleted, for a deleted one (the start of its deleted state). */
  deletedAt: null | number
}

export interface ItemSearchResult {
  account: AccountEntry
  matches: ItemMatch[]
  /** More items matched than `limit`. */
  truncated: boolean
}

interface SearchRow extends RevisionRow {
  remote_id: string
  type: string
  first_seen: number
  arrived_at: number
}

const PAGE = 500
export const DEFAULT_SEARCH_LIMIT = 1000

/**
 * Searches the items of an account by their current state. Runs the same SQL on both dialects and pages through
 * the candidates, so memory holds at most a page and the matches.
 */
export async function searchItems(catalog: Catalog, accountName: string, search: ItemSearch): Promise<ItemSearchResult> {
  refuseEmptySearch(search)
  const account = await findAccount(catalog, accountName)
  const folders = await FolderHistory.load(catalog.db, account.key)
  const limit = search.limit ?? DEFAULT_SEARCH_LIMIT
  const matches: ItemMatch[] = []
  const metadata = foldedColumn('r.metadata')
  const arrival = arrivalSql(catalog.dialect)
  let after: null | string = null
  for (;;) {
    let query = catalog.db('items as i')
    .join('item_revisions as r', 'r.item_id', 'i.id')
    .leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
    .where('i.account_id', account.key)
    .whereNull('r.valid_to')
    if (after !== null) query = query.andWhere('i.remote_id', '>', after)
    if (search.type) query = query.andWhere('i.type', search.type)
    if (search.after !== undefined) query = query.andWhereRaw(`${arrival} >= ?`, [search.after])
    if (search.before !== undefined) query = query.andWhereRaw(`${arrival} < ?`, [search.before])
    if (search.filter === 'deleted') query = query.andWhere('r.deleted', true)
    if (search.filter === 'not_deleted') query = query.andWhere('r.deleted', false)
    if (search.text) query = query.andWhereRaw(`${metadata.sql} LIKE ? ESCAPE '${LIKE_ESCAPE}'`, [...metadata.bindings, likePattern(search.text)])
    const rows: SearchRow[] = await query.orderBy('i.remote_id').limit(PAGE).select(['i.remote_id', 'i.type', 'i.first_seen', catalog.db.raw(`${arrival} AS arrived_at`), ...REVISION_COLUMNS])
    for (const row of rows) {
      const revision = revisionFromRow(row)
      if (search.text && !metadataContains(revision.metadata, search.text)) continue
      if (matches.length === limit) return {account, matches: sortMatches(matches), truncated: true}
      matches.push({
        id: row.remote_id,
        type: row.type,
        firstSeen: Number(row.first_seen),
        arrivedAt: Number(row.arrived_at),
        folderPath: folders.pathAt(revision.folder, 'last'),
        deletedAt: revision.deleted ? revision.validFrom : null,
        ...revision,
      })
    }

    if (rows.length < PAGE) return {account, matches: sortMatches(matches), truncated: false}
    after = rows.at(-1)!.remote_id
  }
}

/** Oldest first, as a mailbox lists them; ids that are numbers in numeric order. */
function sortMatches(matches: ItemMatch[]): ItemMatch[] {
  return matches.sort((a, b) => a.arrivedAt - b.arrivedAt || a.id.localeCompare(b.id, 'en', {numeric: true}))
}

/**
 * A limit of 0, or a window that ends before it starts, can match nothing: answering "0 items" would read as "the
 * backup has no such item" to an administrator looking for a lost message, so it is refused as the typo it is.
 */
function refuseEmptySearch(search: ItemSearch): void {
  if (search.limit !== undefined && search.limit < 1) throw new UsageError(`limit must be 1 or more (the most matches to list), not ${search.limit}`)
  if (search.after !== undefined && search.before !== undefined && search.after >= search.before) {
    throw new UsageError(`after (${new Date(search.after).toISOString()}) must be earlier than before (${new Date(search.before).toISOString()}): `
      + 'after is inclusive and before exclusive, so that window holds no item')
  }
}
