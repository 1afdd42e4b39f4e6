import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'
import type {TransactionFeed} from './feed-entry.js'

import {BlobStore} from '../blobstore/blob-store.js'
import {serverConfig} from '../config/config-store.js'
import {loadCheckpoint} from './checkpoints.js'
import {readAhead} from './read-ahead.js'
import {type BatchStats, TransactionApplier} from './transaction-applier.js'

export interface ScannerOptions {
  catalog: Catalog
  server: string
  feed: TransactionFeed
  signal: AbortSignal
  progress?: ProgressSink
  onBatch?: (stats: BatchStats) => void
}

/** What a run of the scanner did: its batches' stats added up. */
export interface ScannerTotals extends BatchStats {
  batches: number
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
  const from = await loadCheckpoint(catalog, feed.connector, feed.scope)
  const applier = new TransactionApplier({
    catalog,
    blobs,
    feed,
    async blobless() {
      return (await serverConfig(catalog, server)).get('backupBloblessMode') === 'true'
    },
  }, from)
  const totals: ScannerTotals = {
    batches: 0, transactions: 0, errors: 0, revisions: 0, blobsWritten: 0, bytesWritten: 0, lastSeq: null, lastTime: null,
  }
  // The batch after this one is read while this one is applied; a failure stops that read at once.
  const reading = new AbortController()
  const batches = readAhead(feed.read(from, AbortSignal.any([signal, reading.signal])), () => reading.abort())
  for await (const entries of batches) {
    const stats = await applier.apply(entries)
    totals.batches++
    totals.transactions += stats.transactions
    totals.errors += stats.errors
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
