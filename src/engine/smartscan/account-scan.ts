import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {Catalog} from '../catalog/catalog.js'

import {IMAP_CONNECTOR} from '../appserver/imap/imap-identity.js'
import {asImapPosition, type ImapAccountPosition} from '../appserver/imap/imap-position.js'
import {ImapSession} from '../appserver/imap/imap-session.js'
import {writeTransaction} from '../catalog/write-transaction.js'
import {serverConfig} from '../config/config-store.js'
import {markCertain} from '../scanner/account-certainty.js'
import {loadCheckpoint, saveCheckpoint, ScannerConflict} from '../scanner/checkpoints.js'
import {blobStoreFor} from '../scanner/realtime-scanner.js'
import {TransactionApplier} from '../scanner/transaction-applier.js'
import {findBackupAccount} from './backup-view.js'
import {type AccountSyncStats, ImapAccountFeed} from './imap-account-feed.js'

export interface AccountScanOptions {
  catalog: Catalog
  server: string
  settings: ImapSettings
  account: string
  deep?: boolean
  signal: AbortSignal
  /** Told the verb of every IMAP command sent (tests count them). */
  onCommand?: (command: string) => void
  onProgress?: (stats: AccountSyncStats) => void
  batchBytes?: number
  batchSize?: number
  /**
   * Runs each database write after the ones of the other accounts scanned at once: two batches adding the same new
   * domain or the same blob concurrently would otherwise collide on the catalog's unique keys.
   */
  serialize?: Serialize
}

export type Serialize = <T>(work: () => Promise<T>) => Promise<T>

/** A queue of database writes: IMAP reads of several accounts overlap, their batches apply one at a time. */
export function writeQueue(): Serialize {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(work: () => Promise<T>) => {
    const run = tail.then(work, work)
    tail = run.catch(() => {})
    return run
  }
}

export interface AccountScanResult extends AccountSyncStats {
  account: string
  /** The scan's batches (database transactions) and the revisions they wrote. */
  batches: number
  revisions: number
  ms: number
}

/** Attempts when another scanner moved the account's checkpoint meanwhile (the comparison is simply redone). */
const CONFLICT_ATTEMPTS = 3

/**
 * SmartScan of one account: one connection with the admin credential, one synchronisation cycle (ImapAccountFeed)
 * applied batch by batch by the Realtime Scanner's own applier (revisions, blobs and the checkpoint in one database
 * transaction per batch), then the account is marked certain: the backup matches the server.
 */
export async function scanAccount(options: AccountScanOptions): Promise<AccountScanResult> {
  const started = Date.now()
  const {catalog, server, signal} = options
  const account = options.account.toLowerCase()
  const blobs = await blobStoreFor(catalog, server)
  const blobless = (await serverConfig(catalog, server)).get('backupBloblessMode') === 'true'
  const serialize = options.serialize ?? (work => work())
  const session = await ImapSession.open(options.settings, account, {onCommand: options.onCommand, signal})
  try {
    for (let attempt = 1; ; attempt++) {
      const feed = new ImapAccountFeed({
        catalog, blobs, blobless, session, account, deep: options.deep, onProgress: options.onProgress, batchBytes: options.batchBytes, batchSize: options.batchSize,
      })
      let batches = 0
      let revisions = 0
      try {
        const from = await loadCheckpoint<ImapAccountPosition>(catalog, IMAP_CONNECTOR, feed.scope)
        const applier = new TransactionApplier({
          catalog, blobs, feed, blobless: () => blobless,
        }, from)
        let committed: null | ImapAccountPosition = from
        for await (const entries of feed.read(from, signal)) {
          const stats = await serialize(() => applier.apply(entries))
          batches++
          revisions += stats.revisions
          committed = entries.at(-1)!.position
        }

        // Nothing needed writing, but the folders moved on (a flag set and cleared again, a message delivered and
        // expunged): record where they stand, or every later scan would read them again.
        const final = feed.finalPosition
        if (final && !samePosition(final, committed)) {
          await serialize(() => writeTransaction(catalog, trx => saveCheckpoint(trx, IMAP_CONNECTOR, feed.scope, committed, final)))
        }
      } catch (error) {
        if (error instanceof ScannerConflict && attempt < CONFLICT_ATTEMPTS) continue
        throw error
      }

      const record = await findBackupAccount(catalog, account)
      if (record) await serialize(() => markCertain(catalog, record.id))
      return {
        account, ...feed.stats, batches, revisions, ms: Date.now() - started,
      }
    }
  } finally {
    await session.close()
  }
}

function samePosition(a: ImapAccountPosition, b: unknown): boolean {
  if (b === null) return false
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
