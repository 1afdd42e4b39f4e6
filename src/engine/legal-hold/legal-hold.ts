import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'
import type {HoldTarget} from './hold-target.js'

import {now} from '../catalog/catalog.js'
import {UserError} from '../errors.js'
import {findAccount} from '../history/account-lookup.js'

/** One account's legal hold as the commands report it. */
export interface AccountHold {
  account: string
  held: boolean
  /** Why it is held: its own hold, the hold on all accounts, or null when it is not held. */
  by: 'account' | 'all' | null
  deleted: boolean
}

export interface LegalHoldState extends Record<string, unknown> {
  /** `legalHold set all` is in force: every account, including the ones that appear later, is held. */
  all: boolean
  allSince: null | string
  accounts: AccountHold[]
}

interface AccountRow {
  id: number
  name: string
  deleted_at: null | number
  legal_hold: boolean | number
}

/** When `legalHold set all` was given, or null when all accounts are not held as a whole. */
export async function allAccountsHeldSince(db: Knex | Knex.Transaction): Promise<null | number> {
  const row: undefined | {since: number} = await db('legal_hold_all').first('since')
  return row ? Number(row.since) : null
}

export async function getLegalHold(catalog: Catalog, target: HoldTarget): Promise<LegalHoldState> {
  const ids = target.kind === 'all' ? undefined : await resolveAccounts(catalog, target.names)
  return stateOf(catalog.db, ids)
}

/**
 * Puts accounts under legal hold: purge keeps everything they hold, deleted items and the deleted account itself
 * included. `all` holds every account in the backup now and every account that appears later, until `unset all`;
 * the accounts present now are also marked one by one, so that readers of a single account see the hold.
 */
export async function setLegalHold(catalog: Catalog, target: HoldTarget): Promise<LegalHoldState> {
  if (target.kind === 'all') {
    await catalog.db.transaction(async trx => {
      await trx('legal_hold_all').insert({id: 1, since: now()}).onConflict('id').ignore()
      await trx('accounts').where('legal_hold', false).update({legal_hold: true})
    })
    return stateOf(catalog.db)
  }

  const ids = await resolveAccounts(catalog, target.names)
  await catalog.db('accounts').whereIn('id', ids).update({legal_hold: true})
  return stateOf(catalog.db, ids)
}

/**
 * Releases accounts. `unset all` releases every account, also those held one by one. Releasing single accounts
 * while all accounts are held would leave them held anyway: refused, with what to do instead.
 */
export async function unsetLegalHold(catalog: Catalog, target: HoldTarget): Promise<LegalHoldState> {
  if (target.kind === 'all') {
    await catalog.db.transaction(async trx => {
      await trx('legal_hold_all').delete()
      await trx('accounts').where('legal_hold', true).update({legal_hold: false})
    })
    return stateOf(catalog.db)
  }

  const ids = await resolveAccounts(catalog, target.names)
  await catalog.db.transaction(async trx => {
    if ((await allAccountsHeldSince(trx)) !== null) {
      throw new UserError('all accounts are under legal hold (legalHold set all): run legalHold unset all, then legalHold set on the accounts to keep held')
    }

    await trx('accounts').whereIn('id', ids).update({legal_hold: false})
  })
  return stateOf(catalog.db, ids)
}

/** Every name resolved before anything changes, so that one typo leaves all holds as they were. */
async function resolveAccounts(catalog: Catalog, names: readonly string[]): Promise<number[]> {
  const ids: number[] = []
  const unknown: string[] = []
  for (const name of names) {
    try {
      const account = await findAccount(catalog, name)
      for (const id of [account.key, ...await earlierHolders(catalog, name)]) if (!ids.includes(id)) ids.push(id)
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      unknown.push(names.length === 1 ? error.message : name)
    }
  }

  if (unknown.length === 1 && names.length === 1) throw new UserError(unknown[0])
  if (unknown.length > 0) {
    throw new UserError(`accounts not in the backup: ${unknown.join(', ')} (nothing changed): carbonio backup getAvailableAccounts lists the accounts it holds`)
  }

  return ids
}

/**
 * The deleted accounts that had this address before it was created again (kept as `address#deleted-<ms>`): a hold on
 * an address keeps all of its mail, not only that of its newest account, and a release releases the same accounts.
 */
async function earlierHolders(catalog: Catalog, name: string): Promise<number[]> {
  const address = name.trim().toLowerCase()
  const prefix = `${address}#deleted-`
  const rows: Array<{id: number}> = await catalog.db('accounts as a')
  .join('account_revisions as v', 'v.account_id', 'a.id')
  .where('v.name', address)
  .whereRaw('substr(a.name, 1, ?) = ?', [prefix.length, prefix])
  .distinct('a.id')
  return rows.map(row => Number(row.id))
}

async function stateOf(db: Knex, ids?: number[]): Promise<LegalHoldState> {
  const since = await allAccountsHeldSince(db)
  let query = db('accounts').orderBy('name').select('id', 'name', 'deleted_at', 'legal_hold')
  if (ids) query = query.whereIn('id', ids)
  const rows: AccountRow[] = await query
  return {
    all: since !== null,
    allSince: since === null ? null : new Date(since).toISOString(),
    accounts: rows.map(row => {
      const own = Boolean(row.legal_hold)
      return {
        account: row.name,
        held: own || since !== null,
        by: own ? 'account' : (since === null ? null : 'all'),
        deleted: row.deleted_at !== null,
      }
    }),
  }
}
