import {rm} from 'node:fs/promises'

import type {OperationContext} from '../operations/run-operation.js'

import {blobPath} from '../blobstore/blob-path.js'
import {throwIfAborted} from '../errors.js'
import {DAY_MS, resolveRetention} from './retention.js'

export interface PurgeOptions {
  purgeDays?: number
  /** Purge clock, injectable so tests need not wait days. */
  now?: number
}

export interface PurgeReport extends Record<string, unknown> {
  retentionDays: number
  accountRetentionDays: number
  cutoff: null | string
  skipped: null | string
  items: number
  revisions: number
  accounts: number
  blobs: number
  bytesFreed: number
}

const BATCH = 500

/** One purge in progress: what every step reads and adds to. */
interface PurgeRun {
  context: OperationContext
  startedAt: number
  report: PurgeReport
  /** Blobs referenced by removed revisions: the only ones that may have become unreferenced. */
  digests: Set<string>
}

/**
 * Removes what fell out of retention: items whose deletion is older than the item retention and accounts deleted
 * longer than the account retention, except under legal hold. A blob goes only when no remaining revision
 * references it and nobody referenced it since this purge began (a concurrent scanner bumps last_referenced_at
 * before it commits a new reference). Work is found through indexes on deleted states, so the cost follows what
 * is purgeable, not the size of the catalog.
 */
export async function purge(context: OperationContext, options: PurgeOptions = {}): Promise<PurgeReport> {
  const {catalog, progress, signal} = context
  const startedAt = options.now ?? Date.now()
  const retention = await resolveRetention(catalog, context.server, options.purgeDays)
  const report: PurgeReport = {
    retentionDays: retention.itemDays,
    accountRetentionDays: retention.accountDays,
    cutoff: null,
    skipped: null,
    items: 0,
    revisions: 0,
    accounts: 0,
    blobs: 0,
    bytesFreed: 0,
  }
  if (retention.itemDays === 0 && retention.accountDays === 0) {
    report.skipped = `retention is infinite (${retention.itemSource} = 0 and backupAccountsRetentionDays = 0): nothing is ever purged`
    progress({kind: 'step', message: report.skipped})
    return report
  }

  const run: PurgeRun = {
    context, startedAt, report, digests: new Set(),
  }
  if (retention.itemDays > 0) {
    const cutoff = startedAt - (retention.itemDays * DAY_MS)
    report.cutoff = new Date(cutoff).toISOString()
    progress({kind: 'step', message: `removing items deleted before ${report.cutoff}`})
    await purgeDeletedItems(run, cutoff)
  } else {
    progress({kind: 'step', message: `item retention is infinite (${retention.itemSource} = 0): deleted items are kept`})
  }

  if (retention.accountDays > 0) {
    const cutoff = startedAt - (retention.accountDays * DAY_MS)
    progress({kind: 'step', message: `removing accounts deleted before ${new Date(cutoff).toISOString()}`})
    await purgeDeletedAccounts(run, cutoff)
  }

  throwIfAborted(signal)
  progress({kind: 'step', message: `checking ${run.digests.size} blobs for remaining references`})
  await purgeUnreferencedBlobs(run)
  progress({kind: 'counters', counters: countersOf(report)})
  return report
}

function countersOf(report: PurgeReport): Record<string, number> {
  return {
    items: report.items, revisions: report.revisions, accounts: report.accounts, blobs: report.blobs, bytesFreed: report.bytesFreed,
  }
}

async function purgeDeletedItems(run: PurgeRun, cutoff: number): Promise<void> {
  const {catalog, progress, signal} = run.context
  let afterId = 0
  for (;;) {
    throwIfAborted(signal)
    const rows: Array<{item_id: number}> = await catalog
    .db('item_revisions as r')
    .join('items as i', 'i.id', 'r.item_id')
    .join('accounts as a', 'a.id', 'i.account_id')
    .where('r.deleted', true)
    .whereNull('r.valid_to')
    .andWhere('r.valid_from', '<', cutoff)
    .andWhere('a.legal_hold', false)
    .andWhere('r.item_id', '>', afterId)
    .orderBy('r.item_id')
    .limit(BATCH)
    .select('r.item_id')
    if (rows.length === 0) return
    const ids = rows.map(r => Number(r.item_id))
    afterId = ids.at(-1)!
    await removeItems(run, ids)
    progress({kind: 'counters', counters: countersOf(run.report)})
  }
}

async function removeItems(run: PurgeRun, itemIds: number[]): Promise<void> {
  const {report, digests} = run
  await run.context.catalog.db.transaction(async trx => {
    const referenced: Array<{blob_digest: null | string}> = await trx('item_revisions')
    .whereIn('item_id', itemIds)
    .whereNotNull('blob_digest')
    .distinct('blob_digest')
    for (const row of referenced) if (row.blob_digest) digests.add(row.blob_digest)
    report.revisions += await trx('item_revisions').whereIn('item_id', itemIds).delete()
    report.items += await trx('items').whereIn('id', itemIds).delete()
  })
}

async function purgeDeletedAccounts(run: PurgeRun, cutoff: number): Promise<void> {
  const {context, report} = run
  const {catalog} = context
  const accounts: Array<{id: number; name: string}> = await catalog
  .db('accounts')
  .whereNotNull('deleted_at')
  .andWhere('deleted_at', '<', cutoff)
  .andWhere('legal_hold', false)
  .select('id', 'name')
  for (const account of accounts) {
    throwIfAborted(context.signal)
    context.progress({kind: 'step', account: account.name, message: 'removing deleted account'})
    for (;;) {
      const items = await catalog.db('items').where({account_id: account.id}).limit(BATCH).pluck('id')
      if (items.length === 0) break
      await removeItems(run, items.map(Number))
    }

    await catalog.db.transaction(async trx => {
      const folderIds = trx('folders').where({account_id: account.id}).select('id')
      await trx('folder_revisions').whereIn('folder_id', folderIds).delete()
      await trx('folders').where({account_id: account.id}).delete()
      await trx('account_state').where({account_id: account.id}).delete()
      await trx('checkpoints').where('scope', 'like', `${account.name}%`).delete()
      await trx('account_revisions').where({account_id: account.id}).delete()
      await trx('accounts').where({id: account.id}).delete()
    })
    report.accounts++
  }
}

async function purgeUnreferencedBlobs(run: PurgeRun): Promise<void> {
  const {context: {catalog, signal}, report, startedAt} = run
  const digests = [...run.digests]
  for (let i = 0; i < digests.length; i += BATCH) {
    throwIfAborted(signal)
    const chunk = digests.slice(i, i + BATCH)
    const removed = await catalog.db.transaction(async trx => {
      const stillReferenced = new Set((await trx('item_revisions').whereIn('blob_digest', chunk).distinct('blob_digest')).map((r: {blob_digest: string}) => r.blob_digest))
      const orphans: Array<{digest: string; stored: boolean | number; stored_size: null | number}> = await trx('blobs')
      .whereIn('digest', chunk.filter(d => !stillReferenced.has(d)))
      // A reference taken after this purge began may not be visible yet: keep the blob for the next purge.
      .andWhere('last_referenced_at', '<', startedAt)
      .select('digest', 'stored', 'stored_size')
      if (orphans.length > 0) await trx('blobs').whereIn('digest', orphans.map(o => o.digest)).delete()
      return orphans
    })
    // Files go only after the catalog no longer names them: a crash in between leaves an orphan file, which
    // the coherency check finds, never a catalog row pointing at nothing.
    for (const blob of removed) {
      if (blob.stored) {
        await rm(blobPath(catalog.home, blob.digest), {force: true})
        report.bytesFreed += Number(blob.stored_size ?? 0)
      }

      report.blobs++
    }
  }
}
