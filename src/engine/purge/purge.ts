import type {Catalog} from '../catalog/catalog.js'
import type {OperationContext} from '../operations/run-operation.js'
import type {PurgeRun} from './purge-run.js'

import {throwIfAborted} from '../errors.js'
import {allAccountsHeldSince} from '../legal-hold/legal-hold.js'
import {purgeUnreferencedBlobs} from './blob-candidates.js'
import {BlobTrash} from './blob-trash.js'
import {purgeDeletedAccounts} from './deleted-accounts.js'
import {purgeDeletedItems} from './deleted-items.js'
import {emptyReport, type PurgeReport} from './purge-report.js'
import {reportCounters} from './purge-run.js'
import {DAY_MS, resolveRetention} from './retention.js'

export type {PurgeReport} from './purge-report.js'

/** Long enough for any scanner batch and for the clocks of servers sharing a PostgreSQL catalog to disagree. */
export const DEFAULT_BLOB_GRACE_MS = 60 * 60 * 1000
const DEFAULT_BATCH = 500

export interface PurgeOptions {
  /** Item retention in days for this run, instead of ZxBackup_DataRetentionDays. */
  purgeDays?: number
  /** Purge another backup path (its own catalog); the retention still comes from this server's configuration. */
  target?: Catalog
  /** The purge clock for retention cutoffs, injectable so that tests need not wait days. */
  now?: number
  /** A blob referenced less than this long ago (by the wall clock, as scanners record it) waits for the next purge. */
  blobGraceMs?: number
  batchSize?: number
  /** Tests: awaited inside each blob transaction just before its commit, to widen the window a scanner can race. */
  pauseBeforeBlobCommit?: () => Promise<void>
}

/**
 * Removes what fell out of retention: items whose deletion is older than the item retention and accounts deleted
 * longer than the account retention, except under legal hold, then the blobs that no remaining revision
 * references. An item retention of 0 is infinite: the purge ends at once. Every phase works in batches, one
 * transaction each, found through indexes on what is purgeable, so cost follows what is removed and memory stays
 * flat; a stopped or crashed purge leaves nothing half-done that the next one does not finish.
 */
export async function purge(context: OperationContext, options: PurgeOptions = {}): Promise<PurgeReport> {
  const catalog = options.target ?? context.catalog
  const startedAt = options.now ?? Date.now()
  const retention = await resolveRetention(context.catalog, context.server, options.purgeDays)
  const report = emptyReport(catalog.home)
  report.retentionDays = retention.itemDays
  report.retentionSource = retention.itemSource
  report.accountRetentionDays = retention.accountDays
  const {progress} = context
  if (retention.itemDays === 0) {
    report.skipped = `${retention.itemSource} is 0, which means infinite retention: nothing is purged`
    progress({kind: 'step', message: report.skipped})
    return report
  }

  const run: PurgeRun = {
    catalog,
    signal: context.signal,
    progress,
    report,
    trash: new BlobTrash(catalog.home),
    batchSize: options.batchSize ?? DEFAULT_BATCH,
    blobGraceMs: options.blobGraceMs ?? DEFAULT_BLOB_GRACE_MS,
    startedAt,
    pauseBeforeBlobCommit: options.pauseBeforeBlobCommit,
  }
  const recovered = await run.trash.recover(catalog.db)
  if (recovered.restored + recovered.removed > 0) {
    progress({kind: 'warning', message: `an earlier purge stopped while removing blobs: ${recovered.restored} put back, ${recovered.removed} removed`})
  }

  const holdAll = await allAccountsHeldSince(catalog.db)
  if (holdAll === null) {
    const cutoff = startedAt - (retention.itemDays * DAY_MS)
    report.cutoff = new Date(cutoff).toISOString()
    progress({kind: 'step', message: `removing items deleted before ${report.cutoff}`})
    await purgeDeletedItems(run, cutoff)
    if (retention.accountDays > 0) {
      const accountCutoff = startedAt - (retention.accountDays * DAY_MS)
      report.accountCutoff = new Date(accountCutoff).toISOString()
      progress({kind: 'step', message: `removing accounts deleted before ${report.accountCutoff}`})
      await purgeDeletedAccounts(run, accountCutoff)
    } else {
      progress({kind: 'step', message: 'backupAccountsRetentionDays is 0 (infinite): deleted accounts are kept'})
    }
  } else {
    progress({kind: 'step', message: `all accounts are under legal hold since ${new Date(holdAll).toISOString()}: no item or account is removed`})
  }

  throwIfAborted(context.signal)
  progress({kind: 'step', message: 'removing blobs that nothing references any more'})
  await purgeUnreferencedBlobs(run)
  reportCounters(run)
  return report
}
