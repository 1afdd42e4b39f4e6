import type {Knex} from 'knex'

import type {PurgeRun} from './purge-run.js'

import {withRetry, writeTransaction} from '../catalog/write-transaction.js'
import {throwIfAborted} from '../errors.js'
import {allAccountsHeldSince} from '../legal-hold/legal-hold.js'
import {lockItems, removeItems} from './item-removal.js'
import {reportCounters} from './purge-run.js'

/**
 * Removes every item whose current state is a deletion older than the cutoff, except in accounts under legal
 * hold. The candidates come from the partial index item_revisions_deleted_since (only open deleted states are
 * in it), read in (valid_from, id) order from where the previous batch stopped: each entry is read once per
 * purge, so the cost follows the deleted items past retention, whatever the size of the catalog.
 */
export async function purgeDeletedItems(run: PurgeRun, cutoff: number): Promise<void> {
  const {catalog, signal} = run
  let after: null | {id: number; validFrom: number} = null
  for (;;) {
    throwIfAborted(signal)
    const rows: DeletedState[] = await deletedStatesAfter(catalog.db, cutoff, after, run.batchSize)
    if (rows.length === 0) return
    const last = rows.at(-1)!
    after = {id: Number(last.id), validFrom: Number(last.valid_from)}
    const ids = rows.map(row => Number(row.item_id))
    const outcome = await withRetry(() => writeTransaction(catalog, trx => removeDeletedItems(trx, run, ids, cutoff)))
    run.report.items += outcome.items
    run.report.revisions += outcome.revisions
    run.report.itemsHeld += outcome.held
    reportCounters(run)
  }
}

interface DeletedState {
  id: number
  item_id: number
  valid_from: number
}

/**
 * The next open deleted states older than the cutoff, after `after` in (valid_from, id) order: a range of the
 * partial index item_revisions_deleted_since, already in its order (the test of the plan holds it to that).
 * `deleted = true AND valid_to IS NULL` is the index's own predicate, written word for word.
 */
export function deletedStatesAfter(
  db: Knex,
  cutoff: number,
  after: null | {id: number; validFrom: number},
  limit: number,
): Knex.QueryBuilder<DeletedState, DeletedState[]> {
  let query = db<DeletedState>('item_revisions')
  .whereRaw('deleted = true AND valid_to IS NULL')
  .andWhere('valid_from', '<', cutoff)
  if (after) {
    query = query
    .andWhere('valid_from', '>=', after.validFrom)
    .andWhereNot(inner => {
      inner.where('valid_from', after.validFrom).andWhere('id', '<=', after.id)
    })
  }

  return query.orderBy([{column: 'valid_from'}, {column: 'id'}]).limit(limit).select('id', 'item_id', 'valid_from')
}

/**
 * Checks again, inside the transaction that removes them, that the items are still deleted before the cutoff
 * and not held: a scanner may have given one a new state, or legalHold set may have come, since they were found.
 */
async function removeDeletedItems(
  trx: Knex.Transaction,
  run: PurgeRun,
  itemIds: number[],
  cutoff: number,
): Promise<{held: number; items: number; revisions: number}> {
  const locked = await lockItems(trx, run.catalog.dialect, itemIds)
  if (locked.length === 0) return {held: 0, items: 0, revisions: 0}
  const rows: Array<{id: number; legal_hold: boolean | number}> = await trx('items as i')
  .join('accounts as a', 'a.id', 'i.account_id')
  .whereIn('i.id', locked)
  .whereExists(inner => {
    inner
    .select(trx.raw('1'))
    .from('item_revisions as r')
    .whereRaw('r.item_id = i.id')
    .whereRaw('r.deleted = true AND r.valid_to IS NULL')
    .andWhere('r.valid_from', '<', cutoff)
  })
  .select('i.id', 'a.legal_hold')
  const holdAll = (await allAccountsHeldSince(trx)) !== null
  const removable = holdAll ? [] : rows.filter(row => !row.legal_hold).map(row => Number(row.id))
  const removed = await removeItems(trx, removable, run.startedAt)
  return {held: rows.length - removable.length, ...removed}
}
