import type {Catalog} from '../catalog/catalog.js'

import {closestName} from '../config/closest-name.js'
import {UserError} from '../errors.js'
import {type HistoryTime, isoTime, whereValidAt} from './history-time.js'

/** An account of the backup, as every history reader names it. */
export interface AccountEntry {
  /** The catalog's id (not shown to users). */
  key: number
  /** The current address; a deleted account whose address was created again is `address#deleted-<ms>`. */
  name: string
  /** The server's id for the account (Carbonio zimbraId), when known. */
  remoteId: null | string
  domain: null | string
  cos: null | string
  firstSeen: number
  deletedAt: null | number
  legalHold: boolean
}

interface AccountRow {
  id: number
  name: string
  remote_id: null | string
  domain: null | string
  cos_name: null | string
  first_seen: number
  deleted_at: null | number
  legal_hold: boolean | number
}

const COLUMNS = ['a.id', 'a.name', 'a.remote_id', 'd.name as domain', 'a.cos_name', 'a.first_seen', 'a.deleted_at', 'a.legal_hold']

export function accountFromRow(row: AccountRow): AccountEntry {
  return {
    key: Number(row.id),
    name: row.name,
    remoteId: row.remote_id,
    domain: row.domain,
    cos: row.cos_name,
    firstSeen: Number(row.first_seen),
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
    legalHold: Boolean(row.legal_hold),
  }
}

function accounts(catalog: Catalog) {
  return catalog.db('accounts as a').leftJoin('domains as d', 'd.id', 'a.domain_id')
}

/**
 * Finds an account by what an administrator types: its address at `at` (so that an address deleted and created
 * again names the account that had it then), its current address, the server's account id, or an address it had
 * before a rename. Addresses are case-insensitive.
 */
export async function findAccount(catalog: Catalog, nameOrId: string, at?: HistoryTime): Promise<AccountEntry> {
  const typed = nameOrId.trim()
  const key = typed.toLowerCase()
  if (typeof at === 'number') {
    const query = accounts(catalog)
    .join('account_revisions as v', 'v.account_id', 'a.id')
    .where('v.name', key)
    .andWhere('v.deleted', false)
    const row: AccountRow | undefined = await whereValidAt(query, 'v', at).first(COLUMNS)
    if (row) return accountFromRow(row)
  }

  const byName: AccountRow | undefined = await accounts(catalog).where('a.name', key).first(COLUMNS)
  if (byName) return accountFromRow(byName)
  const byId: AccountRow | undefined = await accounts(catalog).where('a.remote_id', typed).first(COLUMNS)
  if (byId) return accountFromRow(byId)
  const byOldName: AccountRow | undefined = await accounts(catalog)
  .join('account_revisions as v', 'v.account_id', 'a.id')
  .where('v.name', key)
  .orderBy('v.valid_from', 'desc')
  .first(COLUMNS)
  if (byOldName) return accountFromRow(byOldName)

  const names: string[] = await catalog.db('accounts').pluck('name')
  const suggestion = closestName(key, names, Math.max(2, Math.floor(key.length / 4)))
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : ''
  throw new UserError(`account ${typed} is not in the backup${hint}: carbonio backup getAvailableAccounts lists the accounts it holds`)
}

/** Whether the account existed (created and not yet deleted) at that moment. */
export function existedAt(account: AccountEntry, at: HistoryTime): boolean {
  if (at === 'last') return account.deletedAt === null
  return account.firstSeen <= at && (account.deletedAt === null || at < account.deletedAt)
}

/** Why an account has no state at `at`, in words that say how to get one. */
export function absenceReason(account: AccountEntry, at: HistoryTime): string {
  if (account.deletedAt !== null && (at === 'last' || at >= account.deletedAt)) {
    return `account ${account.name} was deleted at ${isoTime(account.deletedAt)}; its last state is at date ${isoTime(account.deletedAt - 1)}`
  }

  return `account ${account.name} did not exist yet at ${at === 'last' ? 'that time' : isoTime(at)}: the backup first saw it at ${isoTime(account.firstSeen)}`
}

/** The address the account had at `at` (its current one for 'last', or when no revision covers that time). */
export async function accountNameAt(catalog: Catalog, account: AccountEntry, at: HistoryTime): Promise<string> {
  if (at === 'last') return account.name
  const row: undefined | {name: string} = await whereValidAt(catalog.db('account_revisions as v').where('v.account_id', account.key), 'v', at)
  .first('v.name')
  return row?.name ?? account.name
}
