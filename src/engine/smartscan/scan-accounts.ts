import {setMaxListeners} from 'node:events'

import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {Catalog} from '../catalog/catalog.js'
import type {AccountSyncStats} from './imap-account-feed.js'

import {ImapError} from '../appserver/imap/imap-errors.js'
import {LoginWitness} from '../appserver/imap/login-witness.js'
import {OperationAborted, throwIfAborted} from '../errors.js'
import {markScanned} from '../scanner/account-certainty.js'
import {storageFailure} from '../storage-errors.js'
import {
  type AccountScanResult, scanAccount, scanStorage, type Serialize, writeQueue,
} from './account-scan.js'
import {TransferSlots} from './transfer-slots.js'

// Accounts scanned at once: one IMAP connection each. Most accounts of a scheduled sweep changed nothing and cost a
// login and a LIST-STATUS, mostly waiting on the server, so many run side by side; of those that have new mail, only
// TRANSFERRING_ACCOUNTS fetch bodies at once, which bounds the memory their unapplied batches hold.
const DEFAULT_CONCURRENCY = 16
const TRANSFERRING_ACCOUNTS = 4

export interface ScanAccountsOptions {
  catalog: Catalog
  server: string
  settings: ImapSettings
  accounts: string[]
  signal: AbortSignal
  deep?: boolean
  concurrency?: number
  onCommand?: (account: string, command: string) => void
  /** After each batch an account's scan takes: its figures so far. */
  onAdvanced?: (account: string, stats: AccountSyncStats) => void
  /** After each account, scanned or failed (not when the scan stops). */
  onScanned: (account: string, outcome: {error: string} | {result: AccountScanResult}) => void
}

/**
 * Scans accounts a number at a time, sharing one write queue, one bound on body transfers and the server's blob
 * store: what SmartScan and `daemon once` do over every account. A failure of one account is reported and the
 * others go on; a failure of the server itself (unreachable, the admin login refused) or of the backup volume (full,
 * read-only, failing) stops the accounts still running and is thrown, as is a stop asked through `signal`.
 */
export async function scanAccounts(options: ScanAccountsOptions): Promise<void> {
  const {accounts, catalog, server, settings, signal} = options
  const stopAll = new AbortController()
  // Each account's session listens for the stop: as many listeners as accounts scanned at once.
  setMaxListeners(0, stopAll.signal)
  const onStop = () => stopAll.abort()
  signal.addEventListener('abort', onStop, {once: true})
  const serialize = writeQueue()
  const transfers = new TransferSlots(TRANSFERRING_ACCOUNTS)
  const storage = await scanStorage(catalog, server)
  const scanned = new ScannedAccounts(catalog, serialize)
  const scanStartedAt = Date.now()
  let serverFailure: Error | undefined
  const witness = new LoginWitness(settings)
  let next = 0
  const worker = async () => {
    while (next < accounts.length && !stopAll.signal.aborted) {
      const account = accounts[next++]
      let outcome: {error: string} | {result: AccountScanResult}
      try {
        outcome = {
          result: await scanAccount({
            catalog,
            server,
            settings,
            account,
            deep: options.deep,
            signal: stopAll.signal,
            serialize,
            transfers,
            storage,
            markScanned: (id, from) => scanned.add(id, from),
            scanStartedAt,
            onCommand: options.onCommand ? command => options.onCommand!(account, command) : undefined,
            onProgress: options.onAdvanced ? stats => options.onAdvanced!(account, stats) : undefined,
          }),
        }
      } catch (error_) {
        if (error_ instanceof OperationAborted || stopAll.signal.aborted) continue
        // A refused login is this account's alone when another account opens with the same credential.
        const error = await witness.judge(error_, account, accounts, stopAll.signal)
        if (stopAll.signal.aborted) continue
        // A full, read-only or failing backup volume fails every account the same way, as the server down does:
        // stop at once with the line naming the volume and the fix, rather than log in to every remaining account,
        // fetch its new mail and fail each with a bare ENOSPC.
        const volumeFailure = storageFailure(error, catalog.home)
        if (volumeFailure || (error instanceof ImapError && error.scope === 'server')) {
          serverFailure ??= volumeFailure ?? error as ImapError
          stopAll.abort()
          continue
        }

        outcome = {error: (error as Error).message}
      }

      if ('result' in outcome) witness.noteOpened(account)
      options.onScanned(account, outcome)
    }
  }

  try {
    await Promise.all(Array.from({length: Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, accounts.length)}, worker))
  } finally {
    signal.removeEventListener('abort', onStop)
    await scanned.flush()
  }

  if (serverFailure) throw serverFailure
  throwIfAborted(signal)
}

/**
 * The accounts scanned so far, made certain in one write per hundred instead of one each: in a sweep of accounts that
 * changed nothing, that write was most of the catalog work. What is collected is written even when the scan stops.
 */
class ScannedAccounts {
  private pending: Array<{from: number; id: number}> = []

  constructor(
    private readonly catalog: Catalog,
    private readonly serialize: Serialize,
  ) {}

  async add(id: number, from: number): Promise<void> {
    this.pending.push({from, id})
    if (this.pending.length >= 100) await this.flush()
  }

  async flush(): Promise<void> {
    const marks = this.pending
    if (marks.length === 0) return
    this.pending = []
    // The earliest start of the batch: a doubt recorded after it stays (markScanned), which errs on the safe side.
    let {from} = marks[0]
    for (const mark of marks) from = Math.min(from, mark.from)
    await this.serialize(() => markScanned(this.catalog.db, marks.map(m => m.id), from))
  }
}
