import type {Catalog} from '../catalog/catalog.js'
import type {PointInTime} from '../point-in-time.js'

import {UserError} from '../errors.js'
import {describePointInTime} from '../point-in-time.js'
import {type AccountEntry, findAccount} from './account-lookup.js'
import {earlierAccountWithItem} from './earlier-accounts.js'
import {FolderHistory} from './folder-history.js'
import {type HistoryTime, isoTime, isValidAt} from './history-time.js'
import {
  type ItemRevision, REVISION_COLUMNS, revisionFromRow, type RevisionRow,
} from './item-revision.js'

/**
 * One state of an item with the path of its folder at the moment asked for: at that time for a date, now for last,
 * and when the state began for first and all (a folder renamed meanwhile shows under the name it had then).
 */
export interface ItemStateAt extends ItemRevision {
  folderPath: string
}

export interface ItemHistory {
  account: AccountEntry
  item: string
  type: string
  firstSeen: number
  /** What was asked: all, first, last or an ISO time. */
  selection: string
  /** The selected states, oldest first: every one for `all`, else exactly one. */
  states: ItemStateAt[]
  /** How many states the item has in all. */
  totalStates: number
}

/**
 * The history of one item: every state (`all`), the first or the current one, or the one valid at a time. The
 * state at a time may be a deleted one: it tells when and how the item went. An item that did not exist yet at that
 * time is an error that says when its history starts.
 */
export async function itemHistory(catalog: Catalog, accountName: string, itemId: string, point: PointInTime): Promise<ItemHistory> {
  const account = await findAccount(catalog, accountName, point.kind === 'at' ? point.at : undefined)
  const item: undefined | {first_seen: number; id: number; type: string} = await catalog.db('items')
  .where({account_id: account.key, remote_id: itemId})
  .first('id', 'type', 'first_seen')
  if (!item) {
    const earlier = await earlierAccountWithItem(catalog, account, itemId)
    if (earlier) {
      throw new UserError(`item ${itemId} of ${account.name} is not in the backup: it is an item of the deleted account ${earlier.name}, `
        + `which had the address before: carbonio backup getItem ${earlier.name} ${itemId}`)
    }

    throw new UserError(`item ${itemId} of ${account.name} is not in the backup: carbonio backup doItemSearch ${account.name} lists its items`)
  }

  const rows: RevisionRow[] = await catalog.db('item_revisions as r')
  .leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
  .where('r.item_id', item.id)
  .orderBy([{column: 'r.valid_from'}, {column: 'r.id'}])
  .select(REVISION_COLUMNS)
  const revisions = rows.map(row => revisionFromRow(row))
  const folders = await FolderHistory.load(catalog.db, account.key)
  const selected = select(revisions, point)
  if (selected.length === 0) {
    const first = revisions[0]
    throw new UserError(`item ${itemId} of ${account.name} did not exist yet at ${describePointInTime(point)}: its history starts at ${first ? isoTime(first.validFrom) : 'no time'}`)
  }

  return {
    account,
    item: itemId,
    type: item.type,
    firstSeen: Number(item.first_seen),
    selection: describePointInTime(point),
    states: selected.map(revision => ({...revision, folderPath: folders.pathAt(revision.folder, pathTime(point, revision))})),
    totalStates: revisions.length,
  }
}

function select(revisions: ItemRevision[], point: PointInTime): ItemRevision[] {
  switch (point.kind) {
  case 'all': {
    return revisions
  }

  case 'at': {
    return revisions.filter(r => isValidAt(r.validFrom, r.validTo, point.at))
  }

  case 'first': {
    return revisions.slice(0, 1)
  }

  case 'last': {
    return revisions.filter(r => r.validTo === null).slice(-1)
  }
  }
}

function pathTime(point: PointInTime, revision: ItemRevision): HistoryTime {
  if (point.kind === 'at') return point.at
  if (point.kind === 'last') return 'last'
  return revision.validFrom
}
