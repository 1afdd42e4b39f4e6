import type {ImapSession} from '../appserver/imap/imap-session.js'
import type {BlobStore} from '../blobstore/blob-store.js'
import type {Catalog} from '../catalog/catalog.js'
import type {Serialize} from './account-scan.js'

import {IMAP_CONNECTOR} from '../appserver/imap/imap-identity.js'
import {asImapPosition, type ImapAccountPosition} from '../appserver/imap/imap-position.js'
import {writeTransaction} from '../catalog/write-transaction.js'
import {loadCheckpoint, saveCheckpoint, ScannerConflict} from '../scanner/checkpoints.js'
import {TransactionApplier} from '../scanner/transaction-applier.js'
import {sleep} from '../sleep.js'
import {type AccountSyncStats, ImapAccountFeed} from './imap-account-feed.js'

export interface CycleResult extends AccountSyncStats {
  /** The account's catalog id, when it was known before the cycle (else look it up: the cycle created it). */
  accountId: null | number
  revisions: number
  batches: number
}

const CONFLICT_ATTEMPTS = 3

export interface CycleOptions {
  catalog: Catalog
  blobs: BlobStore
  blobless: boolean
  session: ImapSession
  account: string
  serialize: Serialize
  signal: AbortSignal
  deep?: boolean
  onProgress?: ConstructorParameters<typeof ImapAccountFeed>[0]['onProgress']
  batchBytes?: number
  batchSize?: number
  listWindow?: number
  beforeBodies?: () => Promise<void>
  /** When the scan (or the capture's cycle) began, which marks the account scanned at its end: see AccountFeedOptions. */
  startedAt?: number
  /**
   * Asked after a conflict: true when the cycle should leave the account to whoever moved the checkpoint instead of
   * reading it again (the capture, to a SmartScan of the account: scanHoldsAccount).
   */
  giveWay?: () => Promise<boolean>
  /** Told of each conflict before the cycle reads the account again (a SmartScan then takes it: leaseAccountScan). */
  onConflict?: () => Promise<void>
}

/** The cycle met another scan of the account and left it to that one (CycleOptions.giveWay): not a failure. */
export class CycleGaveWay extends Error {
  constructor(account: string) {
    super(`${account} is being scanned by an operation: left to it`)
    this.name = 'CycleGaveWay'
  }
}

/**
 * One incremental synchronisation cycle of an account on an open session, shared by SmartScan (scanAccount, which
 * opens and closes the session around it) and the realtime capture (which keeps the session between cycles):
 * the account's changes as a Transaction stream applied by the scanner's TransactionApplier, with the per-account
 * checkpoint. A no-change cycle costs one LIST-STATUS.
 */
export async function runImapCycle(options: CycleOptions): Promise<CycleResult> {
  const {catalog, blobs, blobless, session, account, serialize, signal} = options
  // Where this cycle's own commits left the checkpoint: after a conflict, what tells our position from another's.
  let committed: null | ImapAccountPosition = null
  for (let attempt = 1; ; attempt++) {
    const feed = new ImapAccountFeed({
      catalog, blobs, blobless, session, account, deep: options.deep, onProgress: options.onProgress, batchBytes: options.batchBytes, batchSize: options.batchSize, listWindow: options.listWindow,
      beforeBodies: options.beforeBodies, startedAt: options.startedAt,
    })
    let batches = 0
    let revisions = 0
    try {
      const from = await loadCheckpoint<ImapAccountPosition>(catalog, IMAP_CONNECTOR, feed.scope)
      const applier = new TransactionApplier({
        catalog, blobs, feed, blobless: () => blobless,
      }, from)
      committed = from
      for await (const entries of feed.read(from, signal)) {
        const stats = await serialize(() => applier.apply(entries))
        batches++
        revisions += stats.revisions
        committed = entries.at(-1)!.position
      }

      // Nothing needed writing, but the folders moved on (a flag set and cleared again, a message delivered and
      // expunged): record where they stand, or every later cycle would read them again.
      const final = feed.finalPosition
      if (final && !samePosition(final, committed)) {
        await serialize(() => writeTransaction(catalog, trx => saveCheckpoint(trx, IMAP_CONNECTOR, feed.scope, committed, final)))
      }

      return {
        ...feed.stats, accountId: feed.knownAccountId, revisions, batches,
      }
    } catch (error) {
      if (!(error instanceof ScannerConflict)) throw error
      if (options.giveWay && await options.giveWay()) throw new CycleGaveWay(account)
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new ScannerConflict(IMAP_CONNECTOR, `the backup of ${account} was changed by another scan of it (a SmartScan, or another server's daemon) `
          + `during each of ${CONFLICT_ATTEMPTS} attempts: nothing was lost or applied twice; run the scan again`)
      }

      await options.onConflict?.()
      await otherCycleDone(catalog, feed.scope, committed, signal)
    }
  }
}

/** How long a cycle under way may leave the checkpoint unchanged before it is taken for dead (killed, or stalled). */
const CYCLE_QUIET_MS = 10_000
const CYCLE_POLL_MS = 100

/**
 * After a conflict, waits for the cycle that moved the checkpoint to finish (its position no longer names a cycle
 * under way), or to have been quiet for CYCLE_QUIET_MS. Read again at once, this one would commit between two batches
 * of that one, which then conflicts in turn: two cycles taking the account from each other until one gives up.
 */
async function otherCycleDone(catalog: Catalog, scope: string, ours: unknown, signal: AbortSignal): Promise<void> {
  const own = JSON.stringify(ours)
  let last: string | undefined
  let since = Date.now()
  while (!signal.aborted) {
    const position = await loadCheckpoint<ImapAccountPosition>(catalog, IMAP_CONNECTOR, scope)
    const text = JSON.stringify(position)
    // A conflict of our own making (a blob purged under the batch: flushItems) leaves our position there.
    if (!position?.cycle || text === own) return
    if (text !== last) {
      last = text
      since = Date.now()
    } else if (Date.now() - since >= CYCLE_QUIET_MS) {
      return
    }

    await sleep(CYCLE_POLL_MS, signal)
  }
}

function samePosition(a: ImapAccountPosition, b: unknown): boolean {
  // A position that names a cycle says one is under way: the finished cycle writes its own over it.
  if (b === null || (b as ImapAccountPosition).cycle !== undefined) return false
  const other = asImapPosition(b).folders
  const ids = Object.keys(a.folders)
  if (ids.length !== Object.keys(other).length) return false
  return ids.every(id => {
    const x = a.folders[id]
    const y = other[id]
    return y !== undefined && x.path === y.path && x.uidvalidity === y.uidvalidity && x.uidnext === y.uidnext
      && x.highestmodseq === y.highestmodseq && x.messages === y.messages
  })
}
