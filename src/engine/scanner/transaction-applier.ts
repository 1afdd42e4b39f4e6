import type {Transaction} from '../appserver/transaction.js'
import type {BlobStore} from '../blobstore/blob-store.js'
import type {Catalog} from '../catalog/catalog.js'
import type {FeedEntry, TransactionFeed} from './feed-entry.js'

import {OtherWriters} from '../catalog/other-writers.js'
import {writeTransaction} from '../catalog/write-transaction.js'
import {AccountDirectory} from './account-writer.js'
import {Batch} from './batch.js'
import {saveCheckpoint} from './checkpoints.js'
import {resolveContents, type ResolvedContent} from './content-resolver.js'
import {FolderCache} from './folder-cache.js'

export interface ApplierOptions {
  catalog: Catalog
  blobs: BlobStore
  feed: Pick<TransactionFeed, 'connector' | 'resolveContentPath' | 'scope' | 'server'>
  /** Read per batch, so switching blobless mode on takes effect without restarting the scanner. */
  blobless: () => Promise<boolean> | boolean
  /**
   * The accounts of a batch's transactions that backupEnabled false leaves out, read per batch: their transactions are
   * skipped, content unread. For a feed of every account (the redolog); the IMAP capture leaves them out before reading.
   */
  notBackedUp?: (transactions: readonly Transaction[]) => Promise<ReadonlyMap<string, string>>
}

export interface BatchStats {
  transactions: number
  errors: number
  /**
   * Lines quarantined, not applied (not JSON, a missing field, a newer v...): a part of the errors. A run that
   * rejected some must not look successful to whoever runs it once (cron, a script): see `daemon once true`.
   */
  rejected: number
  /** Transactions of accounts not backed up (backupEnabled false), skipped: a part of the transactions. */
  notBackedUp: number
  /**
   * The first problems of the batch, one line each with file, line, account and reason, for the daemon's log: an
   * administrator reading it learns what went wrong without opening the catalog (all of them are in ingest_errors).
   */
  problems: string[]
  revisions: number
  blobsWritten: number
  bytesWritten: number
  lastSeq: null | number
  lastTime: null | number
}

/** A batch whose contents are resolved, ready for its database transaction. */
export interface PreparedBatch {
  entries: FeedEntry[]
  transactions: Transaction[]
  blobless: boolean
  contents: Map<Transaction, ResolvedContent>
  /** Accounts of the batch not backed up, with the level that says so. */
  notBackedUp: ReadonlyMap<string, string>
}

/**
 * Replays a batch of feed entries on the catalog in ONE database transaction, together with the feed position
 * of the last entry: after a crash the batch is either wholly there (and not re-read) or wholly absent (and
 * re-read), so nothing is lost and nothing is applied twice. The scanner only ever appends revisions and closes
 * the previous one's validity.
 */
export class TransactionApplier {
  private readonly accounts = new AccountDirectory()
  private readonly folders = new FolderCache()
  private readonly otherWriters = new OtherWriters()

  /** @param committed the checkpoint the feed is read from (null for a feed never read): see saveCheckpoint. */
  constructor(
    private readonly options: ApplierOptions,
    private committed: unknown,
  ) {}

  private forgetCaches(): void {
    this.accounts.forget()
    this.folders.clear()
  }

  async apply(entries: FeedEntry[]): Promise<BatchStats> {
    return this.commit(await this.prepare(entries))
  }

  /**
   * Reads and stores the batch's contents, before (and outside) its database transaction: the part of a batch
   * that may run while the previous batch commits, since stored blobs are harmless until the catalog names them.
   */
  async prepare(entries: FeedEntry[]): Promise<PreparedBatch> {
    this.options.blobs.ensureHeadroom()
    const transactions = entries.flatMap(e => (e.kind === 'transaction' ? [e.transaction] : []))
    const blobless = await this.options.blobless()
    const notBackedUp = await this.options.notBackedUp?.(transactions) ?? new Map<string, string>()
    const writtenDirs = new Set<string>()
    const backedUp = notBackedUp.size === 0 ? transactions : transactions.filter(t => !notBackedUp.has(t.account))
    const contents = await resolveContents(backedUp, {
      blobs: this.options.blobs, blobless, feed: this.options.feed, writtenDirs,
    })
    // Each blob file was fsynced before its rename; the renames themselves must be on disk before the commit that
    // names the blobs, or a power loss could leave the catalog pointing at a file that is not there.
    await this.options.blobs.syncDirectories(writtenDirs)
    return {
      entries, transactions, blobless, contents, notBackedUp,
    }
  }

  async commit({blobless, contents, entries, notBackedUp, transactions}: PreparedBatch): Promise<BatchStats> {
    const stats: BatchStats = {
      transactions: 0, errors: 0, rejected: 0, notBackedUp: 0, problems: [], revisions: 0, blobsWritten: 0, bytesWritten: 0, lastSeq: null, lastTime: null,
    }
    if (entries.length === 0) return stats

    try {
      // Write lock first: a batch that read and then wrote would fail at once whenever a purge (or any other
      // process) committed in between, instead of waiting under busy_timeout.
      await writeTransaction(this.options.catalog, async trx => {
        // What another process wrote (a purge removing an account, a SmartScan) may contradict the caches.
        if (await this.otherWriters.since(trx, this.options.catalog.dialect) === 'changed') this.forgetCaches()
        const batch = new Batch(trx, this.accounts, contents, stats, this.options.feed, this.folders)
        batch.leaveOut(notBackedUp)
        await batch.prefetch(transactions)
        for (const entry of entries) {
          if (entry.kind === 'error') {
            if (await batch.recordError(entry.error)) stats.rejected++
            continue
          }

          await batch.applyTransaction(entry.transaction)
          const problem = contents.get(entry.transaction)?.problem
          // Missing or mismatching content is recorded on the revision and reported, never a reason to stop.
          if (problem) await batch.recordError({
            reason: problem, account: entry.transaction.account, origin: entry.transaction.origin, scope: 'none',
          })
        }

        await batch.finish({
          blobless, blobs: this.options.blobs, dialect: this.options.catalog.dialect, feed: this.options.feed,
        })
        const last = entries.at(-1)!
        await saveCheckpoint(trx, this.options.feed.connector, this.options.feed.scope, this.committed, last.position)
      })
      this.committed = entries.at(-1)!.position
    } catch (error) {
      // The caches may hold rows of the rolled-back transaction.
      this.forgetCaches()
      this.otherWriters.forget()
      throw error
    }

    return stats
  }
}
