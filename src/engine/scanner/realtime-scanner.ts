import type {Transaction} from '../appserver/transaction.js'
import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'
import type {FeedEntry, TransactionFeed} from './feed-entry.js'

import {BlobStore} from '../blobstore/blob-store.js'
import {BackupEnabledRules} from '../config/backup-enabled.js'
import {serverConfig} from '../config/config-store.js'
import {feedCheckpoint} from './checkpoints.js'
import {readAhead} from './read-ahead.js'
import {type BatchStats, type PreparedBatch, TransactionApplier} from './transaction-applier.js'

export interface ScannerOptions {
  catalog: Catalog
  server: string
  feed: TransactionFeed
  signal: AbortSignal
  progress?: ProgressSink
  onBatch?: (stats: BatchStats) => void
}

/** What a run of the scanner did: its batches' stats added up. */
export interface ScannerTotals extends Omit<BatchStats, 'problems'> {
  batches: number
}

// Switching blobless mode or backupEnabled takes effect within this time; reading the configuration for every batch
// cost more than a small batch's own statements.
const SETTINGS_READ_MS = 1000

const NONE_LEFT_OUT: ReadonlyMap<string, string> = new Map()

/** The COS that a batch's account transactions give, by account: the catalog records them only when it commits. */
function cosGivenIn(transactions: readonly Transaction[]): Map<string, string> {
  const cos = new Map<string, string>()
  for (const t of transactions) {
    if ((t.op === 'account.created' || t.op === 'account.modified') && t.data.cos !== undefined) cos.set(t.account.toLowerCase(), t.data.cos)
  }

  return cos
}

/** A setting read again only when the last reading is older than `ms`. */
function settingReadEvery<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: undefined | {at: number; value: T}
  return async () => {
    if (last === undefined || Date.now() - last.at >= ms) last = {at: Date.now(), value: await read()}
    return last.value
  }
}

/** The blob store of a server, at its configured compression level. */
export async function blobStoreFor(catalog: Catalog, server: string): Promise<BlobStore> {
  const config = await serverConfig(catalog, server)
  return new BlobStore(catalog.home, Number(config.get('backupCompressionLevel') ?? 6))
}

/**
 * The Realtime Scanner: follows a connector's transaction feed from the last committed checkpoint and replays
 * it batch by batch. An abort (SIGTERM, the scanner switched off) takes effect after the current batch.
 */
export async function runScanner(options: ScannerOptions): Promise<ScannerTotals> {
  const {catalog, feed, signal, server} = options
  const blobs = await blobStoreFor(catalog, server)
  const from = await feedCheckpoint(catalog, feed)
  const backupEnabled = settingReadEvery(SETTINGS_READ_MS, () => BackupEnabledRules.load(catalog.db))
  const applier = new TransactionApplier({
    catalog,
    blobs,
    feed,
    blobless: settingReadEvery(SETTINGS_READ_MS, async () => (await serverConfig(catalog, server)).get('backupBloblessMode') === 'true'),
    async notBackedUp(transactions) {
      const rules = await backupEnabled()
      if (!rules.leavesAnyOut) return NONE_LEFT_OUT
      return rules.notBackedUp(catalog.db, [...new Set(transactions.map(t => t.account))], cosGivenIn(transactions))
    },
  }, from)
  const totals: ScannerTotals = {
    batches: 0, transactions: 0, errors: 0, rejected: 0, notBackedUp: 0, revisions: 0, blobsWritten: 0, bytesWritten: 0, lastSeq: null, lastTime: null,
  }
  // The batch after this one is read while this one is applied; a failure stops that read at once.
  const reading = new AbortController()
  const batches = readAhead(prepared(applier, feed.read(from, AbortSignal.any([signal, reading.signal]))), () => reading.abort())
  for await (const batch of batches) {
    const stats = await applier.commit(batch)
    totals.batches++
    totals.transactions += stats.transactions
    totals.errors += stats.errors
    totals.rejected += stats.rejected
    totals.notBackedUp += stats.notBackedUp
    totals.revisions += stats.revisions
    totals.blobsWritten += stats.blobsWritten
    totals.bytesWritten += stats.bytesWritten
    totals.lastSeq = stats.lastSeq ?? totals.lastSeq
    totals.lastTime = stats.lastTime ?? totals.lastTime
    options.onBatch?.(stats)
    options.progress?.({kind: 'counters', counters: {transactions: totals.transactions, errors: totals.errors, revisions: totals.revisions}})
    if (signal.aborted) break
  }

  return totals
}

/** The feed's batches with their contents read and stored: what the read ahead prepares during a commit. */
async function * prepared(applier: TransactionApplier, batches: AsyncIterable<FeedEntry[]>): AsyncGenerator<PreparedBatch> {
  for await (const entries of batches) yield applier.prepare(entries)
}
