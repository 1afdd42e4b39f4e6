import type {Catalog} from '../catalog/catalog.js'

import {ImapRealtime} from '../realtime/imap-realtime.js'
import {markAllUncertain} from '../scanner/account-certainty.js'
import {runScanner} from '../scanner/realtime-scanner.js'
import {sleep} from '../sleep.js'
import {failureMessage} from '../storage-errors.js'
import {feedForServer, imapCaptureForServer} from './feed-for-server.js'
import {realtimeTuning} from './realtime-tuning.js'
import {lastReport, SERVICE_STALE_MS, type ServiceReport} from './services.js'

export type DaemonLog = (line: string) => void

const MAX_BACKOFF_MS = 30_000
const PROGRESS_LOG_MS = 5000

/**
 * The backup-realtime service: runs the Realtime Scanner while ZxBackup_RealTimeScanner is TRUE and a feed is
 * configured, stops it (after its current batch) when switched off, and restarts it with backoff after a failure.
 * Coming back after having been off marks every account uncertain: transactions were not followed meanwhile.
 */
export class RealtimeService {
  private controller?: AbortController
  private loop?: Promise<void>
  private report: ServiceReport = {name: 'backup-realtime', state: 'idle', detail: {}}
  private transactions = 0
  private lastSeq: null | number = null
  private lastTime: null | number = null
  private imap?: ImapRealtime

  constructor(
    private readonly catalog: Catalog,
    private readonly server: string,
    private readonly log: DaemonLog,
  ) {}

  get status(): ServiceReport {
    if (this.report.state !== 'running') return this.report
    if (this.imap) {
      const imap = this.imap.status
      return {...this.report, state: imap.error ? 'failing' : 'running', detail: {...this.report.detail, ...imap}}
    }

    const lagMs = this.lastTime === null ? null : Math.max(0, Date.now() - this.lastTime)
    return {
      ...this.report, detail: {
        ...this.report.detail, transactions: this.transactions, lastSeq: this.lastSeq, lastTransactionAt: iso(this.lastTime), lagMs,
      },
    }
  }

  async reconcile(config: Map<string, null | string>): Promise<void> {
    const enabled = config.get('ZxBackup_RealTimeScanner') !== 'FALSE'
    if (!enabled) {
      if (this.loop) {
        this.log('backup-realtime: ZxBackup_RealTimeScanner is FALSE: stopping the Realtime Scanner after its current batch')
        await this.stop()
      }

      this.report = {name: 'backup-realtime', state: 'disabled', detail: {message: 'ZxBackup_RealTimeScanner is FALSE'}}
      return
    }

    if (this.loop) return
    const selected = feedForServer(config, true)
    const imap = 'reason' in selected ? imapCaptureForServer(config) : undefined
    if (imap && 'settings' in imap) {
      await this.startImap(imap.settings)
      return
    }

    if ('reason' in selected) {
      if (imap) selected.reason = imap.reason
      if (this.report.detail.message !== selected.reason) this.log(`backup-realtime: ${selected.reason}`)
      this.report = {name: 'backup-realtime', state: 'idle', detail: {message: selected.reason}}
      return
    }

    await this.noteTimeOff()
    const controller = new AbortController()
    this.controller = controller
    this.report = {name: 'backup-realtime', state: 'running', detail: {connector: selected.feed.connector, since: new Date().toISOString()}}
    this.log(`backup-realtime: following the ${selected.feed.connector} feed`)
    this.loop = this.runWithBackoff(selected.feed, controller.signal).finally(() => {
      this.loop = undefined
      this.controller = undefined
    })
  }

  /** The IMAP AppServer is followed account by account (ImapRealtime: pushes and polling) rather than through a feed. */
  private async startImap(settings: ConstructorParameters<typeof ImapRealtime>[0]['settings']): Promise<void> {
    await this.noteTimeOff()
    const controller = new AbortController()
    this.controller = controller
    const imap = new ImapRealtime({
      catalog: this.catalog, server: this.server, settings, log: this.log, ...realtimeTuning(),
    })
    this.imap = imap
    this.report = {name: 'backup-realtime', state: 'running', detail: {connector: 'imap', since: new Date().toISOString()}}
    this.log(`backup-realtime: following the accounts of the IMAP AppServer ${settings.url}`)
    this.loop = (async () => {
      let backoff = 1000
      while (!controller.signal.aborted) {
        try {
          await imap.run(controller.signal)
        } catch (error) {
          const message = failureMessage(error, this.catalog.home)
          this.log(`backup-realtime: ${message}; retrying in ${backoff / 1000} s`)
          this.report = {name: 'backup-realtime', state: 'failing', detail: {error: message, retryInMs: backoff}}
          await sleep(backoff, controller.signal)
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
          if (!controller.signal.aborted) this.report = {...this.report, state: 'running', detail: {connector: 'imap'}}
        }
      }
    })().finally(() => {
      this.loop = undefined
      this.controller = undefined
      this.imap = undefined
    })
  }

  async stop(): Promise<void> {
    this.controller?.abort()
    await this.loop
    if (this.report.state === 'running' || this.report.state === 'failing') {
      this.report = {name: 'backup-realtime', state: 'stopped', detail: {message: 'stopped'}}
    }
  }

  private async runWithBackoff(feed: Parameters<typeof runScanner>[0]['feed'], signal: AbortSignal): Promise<void> {
    let backoff = 1000
    while (!signal.aborted) {
      try {
        await runScanner({
          catalog: this.catalog,
          server: this.server,
          feed,
          signal,
          onBatch: stats => {
            this.logProgress(stats.transactions)
            this.transactions += stats.transactions
            this.lastSeq = stats.lastSeq ?? this.lastSeq
            this.lastTime = stats.lastTime ?? this.lastTime
            this.report = {...this.report, state: 'running'}
            backoff = 1000
            if (stats.errors > 0) this.log(`backup-realtime: ${stats.errors} bad transactions recorded (see backup getBackupInfo)`)
          },
        })
      } catch (error) {
        const message = failureMessage(error, this.catalog.home)
        this.log(`backup-realtime: ${message}; retrying in ${backoff / 1000} s`)
        this.report = {name: 'backup-realtime', state: 'failing', detail: {error: message, retryInMs: backoff}}
        await sleep(backoff, signal)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }

  private lastProgressLog = 0

  /** While catching up, a line every few seconds, so the administrator sees it move (and how far behind it is). */
  private logProgress(batchTransactions: number): void {
    if (Date.now() - this.lastProgressLog < PROGRESS_LOG_MS) return
    this.lastProgressLog = Date.now()
    const lag = this.lastTime === null ? '-' : `${((Date.now() - this.lastTime) / 1000).toFixed(1)} s`
    this.log(`backup-realtime: ${this.transactions + batchTransactions} transactions applied, last seq ${this.lastSeq ?? '-'}, lag ${lag}`)
  }

  /** If the scanner was not running before now, what happened meanwhile was not followed: say so, everywhere. */
  private async noteTimeOff(): Promise<void> {
    const previous = await lastReport(this.catalog, this.server, 'backup-realtime')
    if (!previous) return
    const stale = Date.now() - previous.heartbeatAt > SERVICE_STALE_MS
    if (previous.state === 'running' && !stale) return
    const reason = `the Realtime Scanner was off from ${iso(previous.heartbeatAt)} to ${iso(Date.now())}: run a SmartScan`
    const count = await markAllUncertain(this.catalog.db, reason)
    if (count > 0) this.log(`backup-realtime: ${reason} (${count} accounts need it)`)
  }
}

function iso(ms: null | number): null | string {
  return ms === null ? null : new Date(ms).toISOString()
}
