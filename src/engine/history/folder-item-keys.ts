import type {Catalog} from '../catalog/catalog.js'
import type {AccountStateAt, ItemAt, ItemRow} from './state-at.js'

import {parseLocator} from '../appserver/imap/imap-identity.js'
import {
  ITEM_COLUMNS, itemAtFromRow, liveItemScope, liveItemsQuery,
} from './state-at.js'

// A restore appends each folder's messages in the order they arrived, which only a sort over the whole folder gives
// (server ids compared with their digits as numbers, IMAP locators: nothing an SQL ORDER BY can say). Sorting the
// items themselves held every live state of the account in memory at once (about 1 KiB a message: an account of
// 300,000 messages took over 1 GB before the first APPEND). The sort takes these keys instead, a few dozen bytes a
// message, and the items are read again by their keys in pages, folder by folder, while they are appended.

/** What orders a live item among its folder's and finds it again: not the item's state. */
export interface ItemKeyAt {
  /** The catalog's own key of the item (items.id). */
  key: number
  /** The server's item id. */
  id: string
  /**
   * The item's IMAP place (`imap:<UIDVALIDITY>/<UID>`), which orders a folder's messages as the server numbered them;
   * null for any other locator (a redolog store path of a hundred characters orders nothing and is not kept).
   */
  locator: null | string
}

/** Rows per query of the pass over the account: only keys, so a large page costs little. */
const KEY_PAGE = 5000
/** Items read back per query. */
const ITEM_PAGE = 500

/**
 * The keys of the account's live items of these types at the state's moment, by the path of their folder then, in
 * one pass over the account (keyset paging on its unique index of server ids, as state.items() reads).
 */
export async function itemKeysByFolder(
  catalog: Catalog,
  state: AccountStateAt,
  types: readonly string[],
  pageSize = KEY_PAGE,
): Promise<Map<string, ItemKeyAt[]>> {
  const byFolder = new Map<string, ItemKeyAt[]>()
  if (!state.exists) return byFolder
  const scope = liveItemScope(state.account, state.at, state.folderHistory)
  // A folder's path once per folder, not once per item.
  const paths = new Map<null | string, string>()
  let after: null | string = null
  for (;;) {
    let query = liveItemsQuery(catalog, scope).whereIn('i.type', types)
    if (after !== null) query = query.andWhere('i.remote_id', '>', after)
    const rows: Array<{folder_remote_id: null | string; key: number; locator: null | string; remote_id: string}> = await query
    .orderBy('i.remote_id').limit(pageSize).select(['i.id as key', 'i.remote_id', 'r.locator', 'r.folder_remote_id'])
    for (const row of rows) {
      let path = paths.get(row.folder_remote_id)
      if (path === undefined) {
        path = state.folderHistory.pathAt(row.folder_remote_id, state.at)
        paths.set(row.folder_remote_id, path)
      }

      const keys = byFolder.get(path) ?? []
      keys.push({key: Number(row.key), id: row.remote_id, locator: parseLocator(row.locator) ? row.locator : null})
      byFolder.set(path, keys)
    }

    if (rows.length < pageSize) return byFolder
    after = rows.at(-1)!.remote_id
  }
}

/**
 * The live items of a folder's keys, read in pages and given in the order of the keys, with the state they have when
 * their page is read, in the folder they had when the keys were read. For a moment in the past those states never
 * change; a restore of `last` reads the open revisions, which the capture moves on while it runs. An item moved
 * since the keys were read stays in its keyed folder: left out of it, one moved back into a folder already restored
 * would be in none (each item is in one folder's keys, so none is given twice). One deleted since is left out.
 * @yields each key's item still live, in the order of the keys
 */
export async function * itemsOfKeys(
  catalog: Catalog,
  state: AccountStateAt,
  {keys, path}: {keys: readonly ItemKeyAt[]; path: string},
  pageSize = ITEM_PAGE,
): AsyncGenerator<ItemAt> {
  const scope = liveItemScope(state.account, state.at, state.folderHistory)
  for (let start = 0; start < keys.length; start += pageSize) {
    const page = keys.slice(start, start + pageSize)
    const rows: Array<ItemRow & {key: number}> = await liveItemsQuery(catalog, scope, page.map(({key}) => key))
    .select(['i.id as key', ...ITEM_COLUMNS])
    const byKey = new Map(rows.map(row => [Number(row.key), row]))
    for (const {key} of page) {
      const row = byKey.get(key)
      if (!row) continue
      yield {...itemAtFromRow(row, scope), folderPath: path}
    }
  }
}
