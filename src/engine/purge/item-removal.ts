import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

/**
 * Locks the items about to be removed, and their accounts, for the rest of the transaction (PostgreSQL; SQLite's
 * write lock already covers everything). What the next statements check then stays true until the commit: a
 * scanner cannot add a revision to a locked item, and legalHold set cannot mark a locked account. Rows that a
 * scanner batch holds are skipped rather than waited for, so that a purge never waits on a scanner that waits on
 * it; they stay for a later batch or the next purge.
 */
export async function lockItems(trx: Knex.Transaction, dialect: Catalog['dialect'], itemIds: readonly number[]): Promise<number[]> {
  if (itemIds.length === 0 || dialect === 'sqlite') return [...itemIds]
  const result = await trx.raw(
    `SELECT i.id FROM items i JOIN accounts a ON a.id = i.account_id WHERE i.id IN (${placeholders(itemIds)})
     ORDER BY i.id FOR UPDATE OF i SKIP LOCKED FOR SHARE OF a SKIP LOCKED`,
    [...itemIds],
  )
  return (result.rows as Array<{id: number}>).map(row => Number(row.id))
}

/**
 * Removes whole items, every revision of each, and notes every blob they referenced as a purge candidate in the
 * same transaction: a blob can only lose its last reference here, and whatever happens next, the candidate list
 * remembers it until a purge has deleted it or seen it referenced again.
 */
export async function removeItems(
  trx: Knex.Transaction,
  itemIds: readonly number[],
  notedAt: number,
): Promise<{items: number; revisions: number}> {
  if (itemIds.length === 0) return {items: 0, revisions: 0}
  await trx.raw(
    `INSERT INTO blob_purge_candidates (digest, noted_at)
     SELECT DISTINCT blob_digest, CAST(? AS BIGINT) FROM item_revisions WHERE item_id IN (${placeholders(itemIds)}) AND blob_digest IS NOT NULL
     ON CONFLICT (digest) DO NOTHING`,
    [notedAt, ...itemIds],
  )
  const revisions = await trx('item_revisions').whereIn('item_id', itemIds).delete()
  const items = await trx('items').whereIn('id', itemIds).delete()
  return {items, revisions}
}

export function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ')
}
