import type {Catalog} from '../catalog/catalog.js'

import {type AccountEntry, accountFromRow} from './account-lookup.js'
import {whereValidAt} from './history-time.js'

export interface AvailableAccount extends AccountEntry {
  /** The address the account had at the time asked about (its current one without a time). */
  nameAt: string
  /** Deleted on the server: its history stays in the backup (until account retention) and can be restored. */
  deleted: boolean
  /** Its realtime history needs a SmartScan before it can be trusted. */
  uncertain: boolean
}

/**
 * The accounts a restore can start from. Without a time: every account the backup holds, deleted ones included
 * and marked as such (a deleted account is what undelete and restore-on-new-account are for). With a time: the
 * accounts that existed at that moment (created, not yet deleted), under the address they had then, marked
 * deleted when they have been deleted since.
 */
export async function availableAccounts(catalog: Catalog, at?: number): Promise<AvailableAccount[]> {
  const {db} = catalog
  let query = db('accounts as a')
  .leftJoin('domains as d', 'd.id', 'a.domain_id')
  .leftJoin('account_state as s', 's.account_id', 'a.id')
  query = at === undefined
    ? query.select(db.ref('a.name').as('name_at'))
    : whereValidAt(query.join('account_revisions as v', 'v.account_id', 'a.id').where('v.deleted', false), 'v', at)
    .select(db.ref('v.name').as('name_at'));

  const rows = await query
  .orderBy('a.name')
  .select('a.id', 'a.name', 'a.remote_id', 'd.name as domain', 'a.cos_name', 'a.first_seen', 'a.deleted_at', 'a.legal_hold', 's.certain')
  return rows.map((row: Parameters<typeof accountFromRow>[0] & {certain: boolean | null | number; name_at: string}) => {
    const entry = accountFromRow(row)
    return {
      ...entry, nameAt: row.name_at, deleted: entry.deletedAt !== null, uncertain: row.certain !== null && !row.certain,
    }
  })
}

export interface AvailableDomain {
  name: string
  firstSeen: number
  deletedAt: null | number
  /** Accounts of the domain that exist now, and those deleted whose history the backup still holds. */
  accounts: number
  deletedAccounts: number
}

/** The domains of the accounts in the backup, with how many accounts each one holds. */
export async function availableDomains(catalog: Catalog): Promise<AvailableDomain[]> {
  const {db} = catalog
  const rows: Array<{accounts: number | string; deleted_accounts: null | number | string; deleted_at: null | number; first_seen: number; name: string}> = await db('domains as d')
  .leftJoin('accounts as a', 'a.domain_id', 'd.id')
  .groupBy('d.id', 'd.name', 'd.first_seen', 'd.deleted_at')
  .orderBy('d.name')
  .select(
    'd.name',
    'd.first_seen',
    'd.deleted_at',
    db.raw('SUM(CASE WHEN a.id IS NOT NULL AND a.deleted_at IS NULL THEN 1 ELSE 0 END) as accounts'),
    db.raw('SUM(CASE WHEN a.deleted_at IS NOT NULL THEN 1 ELSE 0 END) as deleted_accounts'),
  )
  return rows.map(row => ({
    name: row.name,
    firstSeen: Number(row.first_seen),
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
    accounts: Number(row.accounts ?? 0),
    deletedAccounts: Number(row.deleted_accounts ?? 0),
  }))
}
