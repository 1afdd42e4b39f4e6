import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'

/**
 * Marks an account's realtime history as uncertain: a SmartScan must align it with the server before a restore
 * can trust it (after an Empty Folder, a gap in the stream, an unknown item, or the scanner having been off).
 * The first reason is kept until a scan clears it, so the administrator sees where the doubt started.
 */
export async function markUncertain(db: Knex | Knex.Transaction, accountIds: number[], reason: string, at = now()): Promise<void> {
  for (let i = 0; i < accountIds.length; i += 500) {
    const chunk = accountIds.slice(i, i + 500)
    const existing = new Set((await db('account_state').whereIn('account_id', chunk).select('account_id')).map((r: {account_id: number}) => Number(r.account_id)))
    const fresh = chunk.filter(id => !existing.has(id))
    if (fresh.length > 0) {
      await db('account_state').insert(fresh.map(id => ({
        account_id: id, certain: false, reason, since: at,
      })))
    }

    await db('account_state')
    .whereIn('account_id', chunk.filter(id => existing.has(id)))
    .andWhere('certain', true)
    .update({certain: false, reason, since: at})
  }
}

/** Every account known to the catalog, for reasons that concern the whole stream. */
export async function markAllUncertain(db: Knex | Knex.Transaction, reason: string, at = now()): Promise<number> {
  const ids = (await db('accounts').whereNull('deleted_at').pluck('id')).map(Number)
  await markUncertain(db, ids, reason, at)
  return ids.length
}

/** A SmartScan of the account aligned it with the server: its realtime history is certain again. */
export async function markCertain(catalog: Catalog, accountId: number, at = now()): Promise<void> {
  await catalog.db('account_state')
  .insert({
    account_id: accountId, certain: true, reason: null, since: at, last_scan_at: at,
  })
  .onConflict('account_id')
  .merge({
    certain: true, reason: null, since: at, last_scan_at: at,
  })
}

export interface AccountCertainty {
  account: string
  certain: boolean
  reason: null | string
  since: null | number
}

export async function uncertainAccounts(catalog: Catalog): Promise<AccountCertainty[]> {
  const rows = await catalog.db('account_state as s')
  .join('accounts as a', 'a.id', 's.account_id')
  .where('s.certain', false)
  .orderBy('a.name')
  .select('a.name', 's.reason', 's.since')
  return rows.map((r: {name: string; reason: null | string; since: number}) => ({
    account: r.name, certain: false, reason: r.reason, since: Number(r.since),
  }))
}
