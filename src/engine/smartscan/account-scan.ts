import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {Catalog} from '../catalog/catalog.js'
import type {AccountSyncStats} from './imap-account-feed.js'

import {ImapSession} from '../appserver/imap/imap-session.js'
import {serverConfig} from '../config/config-store.js'
import {markCertain} from '../scanner/account-certainty.js'
import {blobStoreFor} from '../scanner/realtime-scanner.js'
import {claimAccount, findBackupAccount} from './backup-view.js'
import {leaseAccountScan, type ScanLease} from './scan-lease.js'
import {runImapCycle} from './sync-cycle.js'
import {type TransferSlots} from './transfer-slots.js'

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
  listWindow?: number
  /**
   * Runs each database write after the ones of the other accounts scanned at once: two batches adding the same new
   * domain or the same blob concurrently would otherwise collide on the catalog's unique keys.
   */
  serialize?: Serialize
  /** The blob store and blobless mode, read once by a SmartScan of many accounts (else read here). */
  storage?: ScanStorage
  /** Bounds the accounts of one SmartScan that transfer message bodies at once (see TransferSlots). */
  transfers?: TransferSlots
  /**
   * Records that the account, scanned from `scannedFrom` on, matches the server (markScanned). By default at once; a
   * SmartScan of many accounts collects them and writes them together.
   */
  markScanned?: (accountId: number, scannedFrom: number) => Promise<void>
  /**
   * When the SmartScan this account scan is part of began: the doubt of an account new to the backup dates from then,
   * so that marks written together from the earliest start of several accounts (markScanned) clear it too.
   */
  scanStartedAt?: number
}

export interface ScanStorage {
  blobs: Awaited<ReturnType<typeof blobStoreFor>>
  blobless: boolean
}

/** Where a scan of this server stores contents, and whether it stores them at all. */
export async function scanStorage(catalog: Catalog, server: string): Promise<ScanStorage> {
  return {
    blobs: await blobStoreFor(catalog, server),
    blobless: (await serverConfig(catalog, server)).get('backupBloblessMode') === 'true',
  }
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

/**
 * SmartScan of one account: one connection with the admin credential, one synchronisation cycle (ImapAccountFeed)
 * applied batch by batch by the Realtime Scanner's own applier (revisions, blobs and the checkpoint in one database
 * transaction per batch), then the account is marked certain: the backup matches the server.
 */
export async function scanAccount(options: AccountScanOptions): Promise<AccountScanResult> {
  const started = Date.now()
  const {catalog, server, signal} = options
  const account = options.account.toLowerCase()
  const {blobless, blobs} = options.storage ?? await scanStorage(catalog, server)
  const serialize = options.serialize ?? (work => work())
  const slot = options.transfers?.claim()
  const session = await ImapSession.open(options.settings, account, {onCommand: options.onCommand, signal})
  let lease: ScanLease | undefined
  try {
    const cycle = await runImapCycle({
      catalog, blobs, blobless, session, account, serialize, signal, deep: options.deep, onProgress: options.onProgress,
      batchBytes: options.batchBytes, batchSize: options.batchSize, listWindow: options.listWindow, beforeBodies: slot?.take,
      startedAt: options.scanStartedAt ?? started,
      // Only a scan that met the capture pays for taking the account from it: a sweep of quiet accounts writes nothing.
      async onConflict() {
        lease ??= await leaseAccountScan(catalog, account)
      },
    })
    const {accountId: knownId, batches, revisions, ...stats} = cycle
    const accountId = knownId ?? (await findBackupAccount(catalog, account))?.id
    if (accountId !== undefined) {
      await serialize(() => claimAccount(catalog, accountId, server))
      await (options.markScanned ?? ((id, from) => serialize(() => markCertain(catalog, id, from))))(accountId, started)
    }

    return {
      account, ...stats, batches, revisions, ms: Date.now() - started,
    }
  } finally {
    slot?.release()
    // Not given back, it lapses within a minute: no reason to hide the scan's own outcome behind this one.
    await lease?.release().catch(() => {})
    await session.close()
  }
}

