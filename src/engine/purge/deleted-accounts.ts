import type {Knex} from 'knex'

import type {PurgeRun} from './purge-run.js'

import {withRetry, writeTransaction} from '../catalog/write-transaction.js'
import {throwIfAborted} from '../errors.js'
import {allAccountsHeldSince} from '../legal-hold/legal-hold.js'
import {lockItems, removeItems} from './item-removal.js'
import {reportCounters} from './purge-run.js'

const ACCOUNT_BATCH = 100

interface DeletedAccount {
  id: number
  name: string
  legal_hold: boolean | number
}

/**
 * Removes accounts deleted before the cutoff, with everything the backup holds of them, except accounts under
 * legal hold. Found through the index on accounts.deleted_at; an account's items go in batches, each checking
 * again that the account is still deleted and not held.
 */
export async function purgeDeletedAccounts(run: PurgeRun, cutoff: number): Promise<void> {
  const {catalog, signal} = run
  let afterId = 0
  for (;;) {
    const accounts: DeletedAccount[] = await catalog
    .db('accounts')
    .whereNotNull('deleted_at')
    .andWhere('deleted_at', '<', cutoff)
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(ACCOUNT_BATCH)
    .select('id', 'name', 'legal_hold')
    if (accounts.length === 0) return
    afterId = Number(accounts.at(-1)!.id)
    for (const account of accounts) {
      throwIfAborted(signal)
      if (account.legal_hold) {
        run.report.accountsHeld++
        continue
      }

      run.progress({kind: 'step', account: account.name, message: 'removing the deleted account'})
      if (await purgeAccount(run, Number(account.id), cutoff)) run.report.accounts++
      reportCounters(run)
    }
  }
}

/** Returns whether the account itself is gone; it stays when a hold came meanwhile or a scanner held a row. */
async function purgeAccount(run: PurgeRun, accountId: number, cutoff: number): Promise<boolean> {
  const {catalog, report, signal} = run
  let afterItem = 0
  for (;;) {
    throwIfAborted(signal)
    const ids: number[] = (await catalog
    .db('items')
    .where('account_id', accountId)
    .andWhere('id', '>', afterItem)
    .orderBy('id')
    .limit(run.batchSize)
    .pluck('id')).map(Number)
    if (ids.length === 0) break
    afterItem = ids.at(-1)!
    const removed = await withRetry(() => writeTransaction(catalog, async trx => {
      const locked = await lockItems(trx, catalog.dialect, ids)
      if (locked.length === 0 || !(await stillPurgeable(trx, accountId, cutoff))) return
      return removeItems(trx, locked, run.startedAt)
    }))
    if (!removed) {
      if (!(await stillPurgeable(catalog.db, accountId, cutoff))) {
        report.accountsHeld++
        return false
      }

      continue
    }

    report.items += removed.items
    report.revisions += removed.revisions
    reportCounters(run)
  }

  return withRetry(() => writeTransaction(catalog, async trx => {
    if (catalog.dialect === 'postgres') {
      const locked = await trx('accounts').where('id', accountId).forUpdate().skipLocked().first('id')
      if (!locked) return false
    }

    if (!(await stillPurgeable(trx, accountId, cutoff))) return false
    // Items a scanner batch held when they came up stay; the account goes with the next purge.
    if (await trx('items').where('account_id', accountId).first('id')) return false
    const account: {name: string} = await trx('accounts').where('id', accountId).first('name')
    await trx('folder_revisions').whereIn('folder_id', trx('folders').where('account_id', accountId).select('id')).delete()
    await trx('folders').where('account_id', accountId).delete()
    await trx('account_state').where('account_id', accountId).delete()
    await deleteCheckpoints(trx, account.name)
    await trx('account_revisions').where('account_id', accountId).delete()
    await trx('accounts').where('id', accountId).delete()
    return true
  }))
}

async function stillPurgeable(db: Knex | Knex.Transaction, accountId: number, cutoff: number): Promise<boolean> {
  if ((await allAccountsHeldSince(db)) !== null) return false
  const row = await db('accounts')
  .where('id', accountId)
  .whereNotNull('deleted_at')
  .andWhere('deleted_at', '<', cutoff)
  .andWhere('legal_hold', false)
  .first('id')
  return row !== undefined
}

/**
 * A connector's checkpoints for the account: scoped by its address alone, or by the address followed by a
 * folder. The character after the address must not continue an address, or alice@example.com would also take
 * the checkpoints of alice@example.com.au.
 */
async function deleteCheckpoints(trx: Knex.Transaction, name: string): Promise<void> {
  const escaped = name.replaceAll(/[\\%_]/g, character => `\\${character}`)
  const scopes: Array<{connector: string; scope: string}> = await trx('checkpoints')
  .whereRaw(String.raw`scope LIKE ? ESCAPE '\'`, [`${escaped}%`])
  .select('connector', 'scope')
  for (const {connector, scope} of scopes) {
    if (scope === name || !/[\w.+@-]/.test(scope[name.length])) {
      await trx('checkpoints').where({connector, scope}).delete()
    }
  }
}
