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

/**
 * Every account of one server's capture, for time its scanner was off: those the server claimed and those no server
 * claimed (a redolog feed claims none). On a shared catalog another server's accounts were followed by that server's
 * scanner all along: marking them would ask for SmartScans nothing justifies.
 */
export async function markServerUncertain(db: Knex | Knex.Transaction, server: string, reason: string, at = now()): Promise<number> {
  const ids = (await db('accounts').whereNull('deleted_at').andWhere(q => q.where('server', server).orWhereNull('server')).pluck('id')).map(Number)
  await markUncertain(db, ids, reason, at)
  return ids.length
}

/**
 * Scans that began at `scannedFrom` aligned these accounts with the server: they are certain again, except where a
 * doubt arose after the scan began (an Empty Folder or a gap the realtime scanner recorded meanwhile), which the scan
 * may not have seen and which stays until the next one. Every account gets its last_scan_at.
 */
export async function markScanned(db: Knex | Knex.Transaction, accountIds: number[], scannedFrom: number, at = now()): Promise<void> {
  for (let i = 0; i < accountIds.length; i += 500) {
    const chunk = accountIds.slice(i, i + 500)
    const existing = new Set((await db('account_state').whereIn('account_id', chunk).pluck('account_id')).map(Number))
    const fresh = chunk.filter(id => !existing.has(id))
    if (fresh.length > 0) {
      await db('account_state').insert(fresh.map(id => ({
        account_id: id, certain: true, reason: null, since: at, last_scan_at: at,
      })))
    }

    const known = chunk.filter(id => existing.has(id))
    if (known.length === 0) continue
    await db('account_state')
    .whereIn('account_id', known)
    .andWhere(q => q.where('certain', true).orWhere('since', '<=', scannedFrom))
    .update({
      certain: true, reason: null, since: at, last_scan_at: at,
    })
    await db('account_state').whereIn('account_id', known).andWhere('certain', false).update({last_scan_at: at})
  }
}

/** A SmartScan of the account that began at `scannedFrom` aligned it with the server (see markScanned). */
export async function markCertain(catalog: Catalog, accountId: number, scannedFrom: number): Promise<void> {
  await markScanned(catalog.db, [accountId], scannedFrom)
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
