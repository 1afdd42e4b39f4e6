import type {Catalog} from '../catalog/catalog.js'

import {humanDuration} from '../human-duration.js'
import {processAlive, THIS_HOST} from '../operations/process-liveness.js'
import {ImapRealtime} from '../realtime/imap-realtime.js'
import {markServerUncertain} from '../scanner/account-certainty.js'
import {lastAppliedSeq} from '../scanner/checkpoints.js'
import {runScanner} from '../scanner/realtime-scanner.js'
import {sleep} from '../sleep.js'
import {failureMessage} from '../storage-errors.js'
import {feedForServer, imapCaptureForServer} from './feed-for-server.js'
import {realtimeTuning} from './realtime-tuning.js'
import {lastReport, SERVICE_STALE_MS, type ServiceReport} from './services.js'

export type DaemonLog = (line: string) => void

export interface RealtimeServiceOptions {
  /** Time between two progress lines while catching up (tests shorten it). */
  progressLogMs?: number
}

const MAX_BACKOFF_MS = 30_000
const PROGRESS_LOG_MS = 5000

/**
 * The attributes a running capture was started with, per connector: a change restarts it with the new values (another
 * redolog directory; another AppServer, credential or account list). backupRedologPath is among the IMAP ones since
 * setting it switches the capture to the redolog. The redolog scanner reads blobless mode per batch by itself.
 */
const FEED_ATTRIBUTES: Record<string, readonly string[]> = {
  redolog: ['backupRedologPath'],
  imap: [
    'backupRedologPath',
    'backupAppServerUrl',
    'backupAppServerUser',
    'backupAppServerPasswordFile',
    'backupAppServerLoginMode',
    'backupAccountsCommand',
    'backupBloblessMode',
  ],
}

/**
 * The backup-realtime service: runs the Realtime Scanner while ZxBackup_RealTimeScanner is TRUE and a feed is
 * configured, stops it (after its current batch) when switched off, and restarts it with backoff after a failure.
 * Coming back after having been off marks every account uncertain: transactions were not followed meanwhile. A change
 * of where or how it captures (FEED_ATTRIBUTES) restarts it with the new settings.
 */
export class RealtimeService {
  private controller?: AbortController
  private loop?: Promise<void>
  private report: ServiceReport = {name: 'backup-realtime', state: 'idle', detail: {}}
  /** Transactions applied since the scanner last started (the report's `since`), as the log lines say. */
  private transactions = 0
  private lastSeq: null | number = null
  private lastTime: null | number = null
  private imap?: ImapRealtime
  private readonly progressLogMs: number
  private lastProgressLog = 0
  private saidNotBackedUp = false
  /** Whether this start of the scanner has reached the end of the feed yet (said once, in one line). */
  private caughtUp = false
  /** Of the current read of the feed: batches committed, and batches the reader had yielded when it last went idle. */
  private committed = 0
  private idleAfter: number | undefined
  /**
   * When the scanner stopped following the feed: the moment it stopped (or first reported disabled or idle), kept
   * in the report so the next daemon knows it too. Null while it runs (or when it never ran); undefined until the
   * first reconcile reads what the previous daemon left.
   */
  private offSince: null | number | undefined
  /**
   * Why it was off: switched off ('disabled'), no feed configured ('idle'), or not running with the daemon
   * ('stopped', also a daemon that was killed), and the connector it followed before. The redolog keeps what happens
   * while its scanner is not running, so a stopped redolog scanner resumes from its checkpoint having missed nothing
   * (lines lost meanwhile show as a seq gap); only switching it off, as Carbonio defines it, is time off for it.
   */
  private offCause: {connector: null | string; state: string} | undefined
  /** The running capture's connector and the values of its FEED_ATTRIBUTES when it started. */
  private following?: {connector: string; values: Map<string, null | string>}
  /** The failure being waited out while the scanner runs; cleared as soon as the feed works again. */
  private failure: undefined | {error: string; retryInMs: number}

  constructor(
    private readonly catalog: Catalog,
    private readonly server: string,
    private readonly log: DaemonLog,
    options: RealtimeServiceOptions = {},
  ) {
    this.progressLogMs = options.progressLogMs ?? PROGRESS_LOG_MS
  }

  get status(): ServiceReport {
    if (this.report.state !== 'running') return this.report
    const failure = this.failure ?? {}
    if (this.imap) {
      const imap = this.imap.status
      // An accounts command that fails before it ever listed one leaves nothing followed: not "running".
      const nothingFollowed = imap.accountsCommandError !== undefined && imap.accountsFollowed === 0
      return {...this.report, state: imap.error || this.failure || nothingFollowed ? 'failing' : 'running', detail: {...this.report.detail, ...imap, ...failure}}
    }

    const lagMs = this.lastTime === null ? null : Math.max(0, Date.now() - this.lastTime)
    return {
      ...this.report,
      state: this.failure ? 'failing' : 'running',
      detail: {
        ...this.report.detail, transactions: this.transactions, lastSeq: this.lastSeq, lastTransactionAt: iso(this.lastTime), lagMs, ...failure,
      },
    }
  }

  async reconcile(config: Map<string, null | string>): Promise<void> {
    if (this.offSince === undefined) ({cause: this.offCause, since: this.offSince} = await this.previousOffSince())
    const enabled = config.get('ZxBackup_RealTimeScanner') !== 'FALSE'
    if (!enabled) {
      if (this.loop) {
        this.log(`backup-realtime: ZxBackup_RealTimeScanner is FALSE: stopping the Realtime Scanner after ${this.stopWaitsFor}`)
        await this.stop()
      }

      this.halted('disabled', 'ZxBackup_RealTimeScanner is FALSE')
      return
    }

    if (this.loop) {
      const changes = this.feedChanges(config)
      if (changes.length === 0) return
      // Re-read where and how to capture, as a start would, so the change applies within a reconcile (a few seconds
      // when IMAP cycles are in flight): a restart of the capture, not time off (nothing goes unfollowed).
      this.log(`backup-realtime: ${changes.join('; ')}: restarting the realtime capture with the new settings`)
      this.controller?.abort()
      await this.loop
      this.failure = undefined
    }

    const selected = feedForServer(config, this.server, true, {onIdle: batches => this.feedIdle(batches)})
    const imap = 'reason' in selected ? imapCaptureForServer(config) : undefined
    if (imap && 'settings' in imap) {
      this.noteFollowing('imap', config)
      await this.startImap(imap.settings)
      return
    }

    if ('reason' in selected) {
      if (imap) selected.reason = imap.reason
      if (this.report.detail.message !== selected.reason) this.log(`backup-realtime: ${selected.reason}`)
      this.halted('idle', selected.reason)
      return
    }

    this.noteFollowing(selected.feed.connector, config)
    if (this.offSince !== null && this.offCause?.state === 'stopped' && this.offCause.connector === selected.feed.connector && selected.feed.connector === 'redolog') {
      this.log(`backup-realtime: not running since ${iso(this.offSince)}: the redolog kept what happened meanwhile, and the scanner resumes from its checkpoint`)
      this.offSince = null
      this.offCause = undefined
    }

    await this.noteTimeOff()
    const controller = new AbortController()
    this.controller = controller
    this.transactions = 0
    this.caughtUp = false
    // The first progress line comes after the interval: a short catch-up says only that it caught up.
    this.lastProgressLog = Date.now()
    this.report = {name: 'backup-realtime', state: 'running', detail: {connector: selected.feed.connector, since: new Date().toISOString()}}
    this.log(`backup-realtime: following the ${selected.feed.connector} feed`)
    this.loop = this.runWithBackoff(selected.feed, controller.signal).finally(() => {
      this.loop = undefined
      this.controller = undefined
    })
  }

  /** The IMAP AppServer is followed account by account (ImapRealtime: pushes and polling) rather than through a feed. */
  private async startImap(settings: ConstructorParameters<typeof ImapRealtime>[0]['settings']): Promise<void> {
    await this.noteTimeOff('imap')
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
          this.failure = {error: message, retryInMs: backoff}
          await sleep(backoff, controller.signal)
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
          // The capture starts again: its own status says from now on whether the server fails.
          this.failure = undefined
        }
      }
    })().finally(() => {
      this.loop = undefined
      this.controller = undefined
      this.imap = undefined
    })
  }

  /**
   * What a stop waits for, as the log says it: the redolog scanner commits its current batch; the IMAP capture lets the
   * account cycles in flight finish, which may take up to its grace (a large first capture is then cut, and resumed
   * from its last batch by the next start).
   */
  get stopWaitsFor(): string {
    return this.imap ? `the account cycles in flight (at most ${Math.round(this.imap.stopGrace / 1000)} s)` : 'its current batch'
  }

  async stop(): Promise<void> {
    this.controller?.abort()
    await this.loop
    this.failure = undefined
    if (this.report.state === 'running') this.halted('stopped', 'stopped')
  }

  private noteFollowing(connector: string, config: Map<string, null | string>): void {
    const names = FEED_ATTRIBUTES[connector] ?? []
    this.following = {connector, values: new Map(names.map(name => [name, config.get(name) ?? null]))}
  }

  /** What changed in the running capture's settings, one phrase per attribute (a file path, never a password). */
  private feedChanges(config: Map<string, null | string>): string[] {
    if (!this.following) return []
    const changes: string[] = []
    for (const [name, before] of this.following.values) {
      const now = config.get(name) ?? null
      if (now !== before) changes.push(`${name} changed: ${before ?? '(not set)'} -> ${now ?? '(not set)'}`)
    }

    return changes
  }

  /** Not following the feed: since when is kept from the moment it stopped, through every later report. */
  private halted(state: 'disabled' | 'idle' | 'stopped', message: string): void {
    this.offSince ??= Date.now()
    // Switched off at any moment of the time off makes all of it time off (the scanner stops first, then is disabled).
    if (!this.offCause || (state === 'disabled' && this.offCause.state !== 'disabled')) this.offCause = {connector: this.following?.connector ?? null, state}
    this.report = {
      name: 'backup-realtime', state, detail: {
        message, offSince: iso(this.offSince), offState: this.offCause.state, offConnector: this.offCause.connector,
      },
    }
  }

  private async runWithBackoff(feed: Parameters<typeof runScanner>[0]['feed'], signal: AbortSignal): Promise<void> {
    let backoff = 1000
    while (!signal.aborted) {
      this.committed = 0
      this.idleAfter = undefined
      try {
        // Where the scanner starts, so that a catch-up with nothing new still says at which seq it is.
        this.lastSeq ??= await lastAppliedSeq(this.catalog, feed)
        await runScanner({
          catalog: this.catalog,
          server: this.server,
          feed,
          signal,
          onBatch: stats => {
            // Counters first: the lines below describe the batch just committed.
            this.transactions += stats.transactions
            this.lastSeq = stats.lastSeq ?? this.lastSeq
            this.lastTime = stats.lastTime ?? this.lastTime
            this.committed++
            // A batch committed: whatever failed before works again.
            this.recovered()
            backoff = 1000
            // Each with its file, line and reason, as docs/redolog.md promises the writer's authors.
            for (const problem of stats.problems) this.log(`backup-realtime: ${problem}`)
            if (stats.errors > 0) {
              const untold = stats.errors - stats.problems.length
              this.log(`backup-realtime: ${stats.errors} bad transactions recorded${untold > 0 ? ` (${untold} not listed above)` : ''} (see backup getBackupInfo)`)
            }

            if (stats.notBackedUp > 0 && !this.saidNotBackedUp) {
              // Once per start: skipping goes on for every batch while backupEnabled stays false.
              this.saidNotBackedUp = true
              this.log('backup-realtime: skipping the transactions of accounts not backed up (backupEnabled false); backup getAccountInfo says from when')
            }

            if (!this.noteCaughtUp()) this.logProgress()
          },
        })
      } catch (error) {
        const message = failureMessage(error, this.catalog.home)
        // Said once while it lasts (a missing mount may take hours): getServices shows the retries.
        if (message !== this.failure?.error) this.log(`backup-realtime: ${message}; retrying with backoff (up to every ${MAX_BACKOFF_MS / 1000} s) until it works`)
        this.failure = {error: message, retryInMs: backoff}
        await sleep(backoff, signal)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }

  /** While catching up, a line every few seconds, so the administrator sees it move (and how far behind it is). */
  private logProgress(): void {
    if (this.caughtUp || Date.now() - this.lastProgressLog < this.progressLogMs) return
    this.lastProgressLog = Date.now()
    const lag = this.lastTime === null ? '-' : humanDuration(Math.max(0, Date.now() - this.lastTime))
    this.log(`backup-realtime: catching up: ${this.appliedSinceStart()}, last seq ${this.lastSeq ?? '-'}, lag ${lag}`)
  }

  /** The reader reached the end of what the feed holds: caught up once the batches it read are committed. */
  private feedIdle(batchesYielded: number): void {
    this.idleAfter = batchesYielded
    // Read to the end with every batch committed: a failure before this read is over, even with nothing new to apply.
    if (this.committed >= batchesYielded) this.recovered()
    this.noteCaughtUp()
  }

  private recovered(): void {
    if (!this.failure) return
    this.log('backup-realtime: working again (the failure logged above is over)')
    this.failure = undefined
  }

  /** The one line that ends a catch-up, once every batch read before the end of the feed is committed. */
  private noteCaughtUp(): boolean {
    if (this.caughtUp || this.idleAfter === undefined || this.committed < this.idleAfter) return false
    this.caughtUp = true
    this.log(this.lastSeq === null
      ? 'backup-realtime: caught up: the feed holds no transaction yet'
      : `backup-realtime: caught up at seq ${this.lastSeq} (${this.appliedSinceStart()})`)
    return true
  }

  private appliedSinceStart(): string {
    return `${this.transactions} transaction${this.transactions === 1 ? '' : 's'} applied since the scanner started`
  }

  /**
   * Since when the scanner was off according to the previous daemon, and why: the moment its report says it stopped,
   * else its last heartbeat (it was killed while running, or wrote no offSince); null when it was running a moment
   * ago or never ran.
   */
  private async previousOffSince(): Promise<{cause?: {connector: null | string; state: string}; since: null | number}> {
    const previous = await lastReport(this.catalog, this.server, 'backup-realtime')
    if (!previous) return {since: null}
    // Dead: silent too long, or a process of this host that is gone (systemd restarts a killed daemon within seconds,
    // before its last report goes stale).
    const stale = Date.now() - previous.heartbeatAt > SERVICE_STALE_MS
      || (previous.host === THIS_HOST && previous.pid !== process.pid && !processAlive(previous.pid))
    const {detail} = previous
    if (previous.state === 'running' || previous.state === 'failing') {
      return stale ? {since: previous.heartbeatAt, cause: {connector: typeof detail.connector === 'string' ? detail.connector : null, state: 'stopped'}} : {since: null}
    }

    const recorded = typeof detail.offSince === 'string' ? Date.parse(detail.offSince) : Number.NaN
    const cause = typeof detail.offState === 'string' ? {connector: typeof detail.offConnector === 'string' ? detail.offConnector : null, state: detail.offState} : undefined
    return {since: Number.isNaN(recorded) ? previous.heartbeatAt : recorded, cause}
  }

  /**
   * If the scanner was off before now, what happened meanwhile was not followed: say so, everywhere. The IMAP capture's
   * first cycle of an account compares the server with the backup as a SmartScan does, and makes the account certain
   * again within seconds: its log line says so rather than send the administrator to run a SmartScan that adds nothing.
   */
  private async noteTimeOff(connector?: 'imap'): Promise<void> {
    const from = this.offSince
    if (from === null || from === undefined) return
    const off = `the Realtime Scanner was off from ${iso(from)} to ${iso(Date.now())}`
    const reason = `${off}: run a SmartScan`
    const count = await markServerUncertain(this.catalog.db, this.server, reason)
    this.offSince = null
    this.offCause = undefined
    if (count === 0) return
    this.log(connector === 'imap'
      ? `backup-realtime: ${off}: changes made and undone meanwhile are not in the history; the first cycle of each account (${count}) takes in the rest, as a SmartScan would`
      : `backup-realtime: ${reason} (${count} accounts need it)`)
  }
}

function iso(ms: null | number): null | string {
  return ms === null ? null : new Date(ms).toISOString()
}
