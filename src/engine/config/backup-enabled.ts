import type {Knex} from 'knex'

import {UserError} from '../errors.js'

const ATTRIBUTE = 'backupEnabled'
const NAMES_PER_QUERY = 500

/**
 * backupEnabled (cos, account) decides which accounts are backed up at all: an account whose effective value is false
 * is left out by SmartScan and the realtime capture, and the redolog scanner does not apply its changes nor store their
 * content. What the backup already holds of it stays, for restores and for purge's retention, like any history.
 *
 * Resolved for many accounts at once, as `config get account` resolves it for one: the account's own value, else its
 * COS's (when the catalog knows the COS), else the default, true.
 */
export class BackupEnabledRules {
  private constructor(
    private readonly own: ReadonlyMap<string, string>,
    private readonly byCos: ReadonlyMap<string, string>,
  ) {}

  /** The attribute's few rows, in one query; nothing else is read while no level says false. */
  static async load(db: Knex | Knex.Transaction): Promise<BackupEnabledRules> {
    const rows: Array<{level: string; target: string; value: string}> = await db('config')
    .where({attribute: ATTRIBUTE})
    .whereIn('level', ['account', 'cos'])
    .select('level', 'target', 'value')
    const at = (level: string) => new Map(rows.filter(r => r.level === level).map(r => [r.target, r.value]))
    return new BackupEnabledRules(at('account'), at('cos'))
  }

  /** Whether any level says false: while none does, nothing is left out and no account needs looking at. */
  get leavesAnyOut(): boolean {
    return [...this.byCos.values(), ...this.own.values()].includes('false')
  }

  /**
   * For each of the accounts not backed up, the level that says so ("account alice@example.com", "cos guests").
   * `cosNotYetRecorded`: COS that a feed gives accounts in transactions not committed yet (an account created with its
   * COS in the batch that brings its first messages), over what the catalog knows.
   */
  async notBackedUp(
    db: Knex | Knex.Transaction,
    accounts: readonly string[],
    cosNotYetRecorded: ReadonlyMap<string, string> = new Map(),
  ): Promise<Map<string, string>> {
    const excluded = new Map<string, string>()
    if (!this.leavesAnyOut || accounts.length === 0) return excluded
    const cosOf = [...this.byCos.values()].includes('false') ? await cosOfAccounts(db, accounts) : new Map<string, string>()
    for (const account of accounts) {
      const key = account.toLowerCase()
      const cos = cosNotYetRecorded.get(key)?.toLowerCase() ?? cosOf.get(key)
      if (this.own.has(key)) {
        if (this.own.get(key) === 'false') excluded.set(account, `account ${key}`)
      } else if (cos !== undefined && this.byCos.get(cos) === 'false') {
        excluded.set(account, `cos ${cos}`)
      }
    }

    return excluded
  }
}

/** The accounts not backed up among these, with the level that says so (see BackupEnabledRules). */
export async function accountsNotBackedUp(db: Knex | Knex.Transaction, accounts: readonly string[]): Promise<Map<string, string>> {
  return (await BackupEnabledRules.load(db)).notBackedUp(db, accounts)
}

/** The level that leaves one account out ("account alice@example.com", "cos guests"), or undefined: it is backed up. */
export async function notBackedUpBy(db: Knex | Knex.Transaction, account: string): Promise<string | undefined> {
  return (await accountsNotBackedUp(db, [account])).get(account)
}

/** A directory's list split into the accounts to back up and those left out (with the level that says so). */
export async function splitBackedUp(db: Knex | Knex.Transaction, listed: readonly string[]): Promise<{backedUp: string[]; notBackedUp: Map<string, string>}> {
  const notBackedUp = await accountsNotBackedUp(db, listed)
  return {backedUp: listed.filter(account => !notBackedUp.has(account)), notBackedUp}
}

/** Refuses a scan of one account that is not backed up: before an operation is created for it, and in the operation. */
export async function checkBackedUp(db: Knex | Knex.Transaction, account: string): Promise<void> {
  const by = await notBackedUpBy(db, account)
  if (by) throw notBackedUpError(account, by)
}

/** The refusal of a command naming one account that is not backed up: the level that says so and the fix. */
export function notBackedUpError(account: string, by: string): UserError {
  const fix = by.startsWith('account ')
    ? `config set account ${account} backupEnabled true`
    : `config set account ${account} backupEnabled true, or config set ${by} backupEnabled true for the whole COS`
  return new UserError(`${account} is not backed up: backupEnabled is false at ${by}; to back it up: ${fix}`)
}

/** One line for the accounts left out, naming the first few: a COS of thousands is not listed whole. */
export function notBackedUpLine(notBackedUp: ReadonlyMap<string, string>): string {
  const names = [...notBackedUp.keys()]
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '')
  return `${names.length} account${names.length === 1 ? '' : 's'} not backed up (backupEnabled false): ${shown}`
}

async function cosOfAccounts(db: Knex | Knex.Transaction, accounts: readonly string[]): Promise<Map<string, string>> {
  const cosOf = new Map<string, string>()
  const names = [...new Set(accounts.map(a => a.toLowerCase()))]
  for (let i = 0; i < names.length; i += NAMES_PER_QUERY) {
    const found: Array<{cos_name: null | string; name: string}> = await db('accounts')
    .whereIn('name', names.slice(i, i + NAMES_PER_QUERY))
    .whereNotNull('cos_name')
    .select('name', 'cos_name')
    for (const row of found) cosOf.set(row.name, String(row.cos_name).toLowerCase())
  }

  return cosOf
}
