import {setMaxListeners} from 'node:events'

import type {Catalog} from '../catalog/catalog.js'

import {noAccountListed, runAccountsCommand} from '../appserver/imap/accounts-command.js'
import {closedAtConnect, ImapError} from '../appserver/imap/imap-errors.js'
import {ImapSession} from '../appserver/imap/imap-session.js'
import {type ImapSettings} from '../appserver/imap/imap-settings.js'
import {LoginWitness} from '../appserver/imap/login-witness.js'
import {notBackedUpLine, splitBackedUp} from '../config/backup-enabled.js'
import {serverConfig} from '../config/config-store.js'
import {markCertain} from '../scanner/account-certainty.js'
import {blobStoreFor} from '../scanner/realtime-scanner.js'
import {writeQueue} from '../smartscan/account-scan.js'
import {claimAccount, findBackupAccount} from '../smartscan/backup-view.js'
import {scanHoldsAccount} from '../smartscan/scan-lease.js'
import {howFar} from '../smartscan/scan-progress.js'
import {CycleGaveWay, type CycleResult, runImapCycle} from '../smartscan/sync-cycle.js'
import {storageFailure} from '../storage-errors.js'
import {Doorbell} from './doorbell.js'
import {PollingDelay} from './polling-delay.js'
import {PushPool, type PushPoolStatus} from './push-pool.js'

export interface ImapRealtimeOptions {
  catalog: Catalog
  server: string
  settings: ImapSettings
  log: (line: string) => void
  /** Time between two cycles of an account that the server does not push (or pushes for INBOX only). */
  intervalMs?: number
  /** Time between two cycles of an account whose every folder is pushed (NOTIFY): polling as the safety net only. */
  pushedIntervalMs?: number
  /** Push connections kept open at most (one per account); 0 turns pushes off. */
  pushConnections?: number
  /** Accounts synchronised at once (one IMAP connection each). */
  concurrency?: number
  /** Connections kept open between cycles (least recently used closed first). */
  maxSessions?: number
  /** How often the accounts command runs again (new accounts are followed). */
  accountsRefreshMs?: number
  /** After how long without an answer the accounts command is said to be silent (it is left to run to its timeout). */
  accountsSilentMs?: number
  /** Told the verb of every IMAP command of the sync cycles, per account (tests count them); not the push connections. */
  onCommand?: (account: string, command: string) => void
  /** Once stopping, how long the cycles in flight may take before their connections are cut. */
  stopGraceMs?: number
  /** Polled cycles starting later than this after they were due are said to be behind (default 10 s). */
  pollBehindMs?: number
  /** How often a cycle still running (the first capture of a large mailbox takes hours) logs how far it is. */
  longCycleLogMs?: number
}

export interface ImapRealtimeStatus {
  connector: 'imap'
  accountsFollowed: number
  cycles: number
  revisions: number
  lastCycleAt: null | string
  /** The failure every account waits out (server unreachable, login refused, backup volume full), with the retry time. */
  error?: string
  retryAt?: string
  /** The accounts command's last failure (the accounts already known are still followed). */
  accountsCommandError?: string
  /**
   * Accounts failing on their own (the server refuses or cannot read them), and the failures of the first few: logged
   * once, they were otherwise nowhere in getServices, which showed the capture running for days without them.
   */
  accountsFailing?: number
  accountFailures?: Record<string, string>
  /** How late the last polled cycle started after it was due: how long a change in an account without push waits. */
  pollDelayMs: null | number
  /**
   * received: pushes heard. missed: polled cycles that found changes no push had announced on an account whose every
   * folder is pushed (NOTIFY): each was captured up to the safety-net interval late, and its push connection reopened.
   */
  push: PushPoolStatus & {missed: number; received: number}
}

const MAX_BACKOFF_MS = 30_000
/** Account failures getServices shows in full (all are counted; each is in the log). */
const SHOWN_FAILURES = 5
/**
 * After a folder of an account is created, renamed or deleted, or its push was found missing a change, its cycles run
 * this often for CLOSE_WATCH_MS, push or not, where the safety-net poll of a pushed account comes only every 30 s.
 * Dovecot 2.3's NOTIFY stops reporting changes to folders other than INBOX after a folder with subfolders is renamed
 * (seen with plain IMAP sessions: a message moved into the renamed child reached no push connection, old or new), and
 * reports nothing at all for the changes it takes in together (those of about half a second) when among them a folder
 * is created and then renamed or deleted: its notify code stops at the first folder it cannot look up (seen with plain
 * IMAP sessions: create Other, create A, rename A to B and append to Archive in a row reach no push; the next change is
 * pushed). Both come with folders being reorganised, which few accounts do at a time.
 */
const CLOSE_POLL_MS = 1000
const CLOSE_WATCH_MS = 5 * 60_000
type FolderWork = Pick<CycleResult, 'foldersCreated' | 'foldersDeleted' | 'foldersRenamed'>
/**
 * A push starts the cycle this much later: the server may push the first half of a change (a MOVE's copy) before
 * the second (its expunge), and a MOVE is recognised as one only when a cycle sees both.
 */
const PUSH_SETTLE_MS = 50
/**
 * A push later than this after a polled cycle found its change was missed: Dovecot pushes a change 0.5 s after it
 * (a rename 1.5 s), so a poll may find it first.
 */
const PUSH_LATE_MS = 3000
/** While an operation scans an account, how often the capture looks whether it may follow the account again. */
const SCANNED_RECHECK_MS = 1000
const LONG_CYCLE_LOG_MS = 60_000

/**
 * Realtime capture from an IMAP AppServer: every account of the accounts command runs the SmartScan synchronisation
 * cycle (LIST-STATUS, then only what changed), a few accounts at a time, when the server pushes a change of it
 * (NOTIFY or IDLE, on a bounded pool of connections: see PushPool) and otherwise by polling, every intervalMs, or
 * every pushedIntervalMs as a safety net for an account whose every folder is pushed. A push only schedules the
 * cycle, and the cycle compares with the catalog: nothing is missed or written twice, whatever the pushes. A
 * failure of the server (down, restarting, login refused) pauses every account with backoff; the next cycles catch
 * up what changed meanwhile with no gap. A failure of one account delays that account only. Stopping lets the
 * cycles in flight finish.
 */
export class ImapRealtime {
  private readonly intervalMs: number
  private readonly pushedIntervalMs: number
  private readonly concurrency: number
  private maxSessions: number
  private readonly accountsRefreshMs: number
  /** Once stopping, how long (ms) the cycles in flight may take before their connections are cut. */
  readonly stopGrace: number
  private readonly accountsSilentMs: number
  private accounts: string[] = []
  /** Accounts the directory lists that backupEnabled false leaves out, as of the last refresh. */
  private notBackedUp = new Set<string>()
  private accountsReadAt = 0
  private readonly due = new Map<string, number>()
  private readonly accountBackoff = new Map<string, number>()
  private readonly busy = new Set<string>()
  /** Accounts pushed while their cycle ran: the cycle may have read the server just before that change. */
  private readonly again = new Set<string>()
  /**
   * Accounts whose cycle is due because the server pushed a change: served before those due by polling or still
   * waiting for a first cycle. Otherwise a change pushed for one account waits behind every account due earlier, which
   * on a directory of thousands (or listing accounts the server refuses, each after its failure delay) is an hour.
   */
  private readonly pushedDue = new Set<string>()
  /** Accounts the server pushed (or whose push connection opened or was lost) since their last cycle started. */
  private readonly announced = new Set<string>()
  private readonly doorbell = new Doorbell()
  private readonly pool: PushPool
  private readonly witness: LoginWitness
  private pushesReceived = 0
  private pushesMissed = 0
  /** Accounts whose missed push was logged: once per account, the count in getServices says the rest. */
  private readonly missedLogged = new Set<string>()
  /** Accounts a polled cycle found changed without a push, and when: missed unless the push comes within PUSH_LATE_MS. */
  private readonly unpushed = new Map<string, number>()
  private readonly pollDelay: PollingDelay
  private readonly certain = new Set<string>()
  /** Accounts with folders reorganised or a push missed lately, and until when their cycles run every CLOSE_POLL_MS. */
  private readonly closelyUntil = new Map<string, number>()
  /** Open sessions, least recently used first. */
  private readonly sessions = new Map<string, ImapSession>()
  private pausedUntil = 0
  private serverBackoff = 1000
  private readonly counters = {cycles: 0, revisions: 0, lastCycleAt: null as null | number}
  private failure: undefined | {error: string; retryAt: number; storage: boolean}
  /**
   * The failure each failing account last logged: said once while it lasts, and once when it ends. Retried with backoff
   * up to every 30 s for days, an account the directory lists but the server refuses would otherwise log a line each
   * time, one per such account: thousands of lines a minute that bury every other line of the daemon's log.
   */
  private readonly accountFailures = new Map<string, string>()
  private accountsError: string | undefined
  /** Set while the accounts command runs past accountsSilentMs without answering. */
  private accountsSilence: string | undefined

  constructor(private readonly options: ImapRealtimeOptions) {
    this.intervalMs = options.intervalMs ?? 1000
    this.pushedIntervalMs = Math.max(options.pushedIntervalMs ?? 30_000, this.intervalMs)
    this.concurrency = options.concurrency ?? 4
    this.maxSessions = Math.max(options.maxSessions ?? 16, this.concurrency)
    this.accountsRefreshMs = options.accountsRefreshMs ?? 60_000
    this.stopGrace = options.stopGraceMs ?? 30_000
    this.accountsSilentMs = options.accountsSilentMs ?? 30_000
    this.witness = new LoginWitness(options.settings)
    this.pollDelay = new PollingDelay(options.pollBehindMs)
    this.pool = new PushPool({
      settings: options.settings,
      size: options.pushConnections ?? 100,
      log: options.log,
      onChange: account => this.pushed(account, true),
      onLost: account => this.pushed(account, false),
    })
  }

  get status(): ImapRealtimeStatus {
    return {
      connector: 'imap',
      accountsFollowed: this.accounts.length,
      cycles: this.counters.cycles,
      revisions: this.counters.revisions,
      lastCycleAt: this.counters.lastCycleAt === null ? null : new Date(this.counters.lastCycleAt).toISOString(),
      ...(this.failure ? {error: this.failure.error, retryAt: new Date(this.failure.retryAt).toISOString()} : {}),
      ...(this.accountsError ?? this.accountsSilence ? {accountsCommandError: this.accountsError ?? this.accountsSilence} : {}),
      ...(this.accountFailures.size > 0
        ? {accountsFailing: this.accountFailures.size, accountFailures: Object.fromEntries([...this.accountFailures].slice(0, SHOWN_FAILURES))}
        : {}),
      pollDelayMs: this.pollDelay.ms,
      push: {...this.pool.status, missed: this.pushesMissed, received: this.pushesReceived},
    }
  }

  /** Follows the accounts until the signal fires, then returns once the cycles in flight are done. */
  async run(signal: AbortSignal): Promise<void> {
    const {catalog, server} = this.options
    const blobs = await blobStoreFor(catalog, server)
    const blobless = (await serverConfig(catalog, server)).get('backupBloblessMode') === 'true'
    const serialize = writeQueue()
    // Connections are cut only if the cycles in flight outlast the grace period after the stop.
    const hard = new AbortController()
    // Every connection kept open listens to it, one per account followed: past Node's default of 10, a warning of a
    // possible leak in the daemon's log would alarm whoever reads it.
    setMaxListeners(0, hard.signal)
    let graceTimer: NodeJS.Timeout | undefined
    const onStop = () => {
      graceTimer = setTimeout(() => hard.abort(), this.stopGrace)
    }

    signal.addEventListener('abort', onStop, {once: true})
    const worker = async () => {
      while (!signal.aborted) {
        if (Date.now() >= this.accountsReadAt + this.accountsRefreshMs && !this.readingAccounts) await this.refreshAccounts(signal)
        const account = this.nextAccount()
        if (!account) {
          await this.doorbell.wait(this.waitMs(), signal)
          continue
        }

        this.busy.add(account)
        this.again.delete(account)
        const cycleStarted = Date.now()
        this.notePollDelay(account, cycleStarted)
        this.pushedDue.delete(account)
        const announced = this.announced.delete(account)
        const scanned = () => scanHoldsAccount(catalog, account)
        try {
          // An operation scanning the account commits the same changes; cycles of ours between its batches would
          // make it read the account again and again (leaseAccountScan).
          if (await scanned()) {
            this.due.set(account, Date.now() + SCANNED_RECHECK_MS)
            continue
          }

          const session = await this.session(account, hard.signal)
          let toldAt = cycleStarted
          const result = await runImapCycle({
            catalog, blobs, blobless, session, account, serialize, signal: hard.signal, startedAt: cycleStarted, giveWay: scanned,
            onProgress: stats => {
              if (Date.now() - toldAt < (this.options.longCycleLogMs ?? LONG_CYCLE_LOG_MS)) return
              toldAt = Date.now()
              this.options.log(`backup-realtime: ${account}: still capturing: ${howFar(stats)}`)
            },
          })
          this.counters.cycles++
          this.counters.revisions += result.revisions
          this.counters.lastCycleAt = Date.now()
          if (this.failure) this.options.log(`backup-realtime: ${this.failure.storage ? 'the backup accepts writes again' : 'the AppServer answers again'}: catching up with every account`)
          this.failure = undefined
          this.serverBackoff = 1000
          this.accountWorks(account)
          this.notePushing(account, result, announced, signal)
          for (const warning of result.warnings) this.options.log(`backup-realtime: ${account}: ${warning}`)
          if (!this.certain.has(account)) {
            const accountId = result.accountId ?? (await findBackupAccount(catalog, account))?.id
            if (accountId !== undefined) {
              await serialize(() => claimAccount(catalog, accountId, server))
              await serialize(() => markCertain(catalog, accountId, cycleStarted))
            }

            this.certain.add(account)
          }

          if (this.again.has(account)) this.pushedDue.add(account)
          this.due.set(account, this.again.has(account) ? Date.now() : Date.now() + this.interval(account))
        } catch (error) {
          await this.dropSession(account)
          if (hard.signal.aborted) break
          if (error instanceof CycleGaveWay) {
            this.due.set(account, Date.now() + SCANNED_RECHECK_MS)
            continue
          }

          // A refused login is this account's alone (not a pause of every account) when another one opens.
          this.failed(account, await this.witness.judge(error, account, this.accounts, hard.signal) as Error)
        } finally {
          this.busy.delete(account)
        }
      }
    }

    try {
      await this.refreshAccounts(signal)
      await Promise.all(Array.from({length: this.concurrency}, worker))
    } finally {
      signal.removeEventListener('abort', onStop)
      clearTimeout(graceTimer)
      await this.pool.close()
      await Promise.all([...this.sessions.keys()].map(account => this.dropSession(account)))
    }
  }

  /**
   * A push (or a push connection opened or lost): the account's cycle runs now, or again right after the one
   * running, which may have read the server just before the change. A push connection at work shows that the
   * server answers again: no need to wait out the rest of its backoff.
   */
  private pushed(account: string, answering: boolean): void {
    if (!this.due.has(account)) return
    this.announced.add(account)
    this.unpushed.delete(account)
    if (answering) {
      this.pushesReceived++
      if (this.pausedUntil > Date.now()) this.pausedUntil = Date.now()
    }

    if (this.busy.has(account)) {
      this.again.add(account)
      return
    }

    const due = this.due.get(account)!
    // An account waiting out its own failure keeps its backoff.
    if (this.accountBackoff.has(account) && due > Date.now()) return
    this.due.set(account, Math.min(due, Date.now() + PUSH_SETTLE_MS))
    if (answering) this.pushedDue.add(account)
    this.doorbell.ring()
  }

  /**
   * What a cycle says of the account's pushes: an account that changes keeps (or takes) a push connection; one whose
   * folders are being reorganised, or with changes that no push announced (`announced`: a push came since the previous
   * cycle began), is watched closely (CLOSE_POLL_MS). Not for the folders an account's first cycle takes in: at the
   * daemon's start that would be every account.
   */
  private notePushing(account: string, result: FolderWork & {revisions: number}, announced: boolean, signal: AbortSignal): void {
    if (result.revisions > 0) this.pool.noteActivity(account)
    if (!announced && result.revisions > 0 && this.certain.has(account)) this.unannounced(account, signal)
    const folderWork = result.foldersRenamed + (this.certain.has(account) ? result.foldersCreated + result.foldersDeleted : 0)
    if (folderWork > 0) this.closelyUntil.set(account, Date.now() + CLOSE_WATCH_MS)
  }

  /**
   * A polled cycle found changes that no push announced. Where the server pushes every folder (NOTIFY) and no push comes
   * within PUSH_LATE_MS, the push missed them: the account is polled closely for a while (CLOSE_POLL_MS), its push
   * connection is opened anew (in case the connection, not the change, was at fault: see ImapPush.reopen), the count
   * goes to getServices and the first miss of each account to the log. Not judged while the account is polled closely already:
   * such a cycle may find a change before its push.
   */
  private unannounced(account: string, signal: AbortSignal): void {
    if (this.again.has(account) || this.pool.modeOf(account) !== 'notify') return
    if (this.polledClosely(account)) return
    const at = Date.now()
    this.unpushed.set(account, at)
    setTimeout(() => {
      if (signal.aborted || this.unpushed.get(account) !== at) return
      this.unpushed.delete(account)
      this.pushesMissed++
      this.closelyUntil.set(account, Date.now() + CLOSE_WATCH_MS)
      const due = this.due.get(account)
      if (due !== undefined) this.due.set(account, Math.min(due, Date.now() + CLOSE_POLL_MS))
      this.pool.reopen(account)
      if (this.missedLogged.has(account)) return
      this.missedLogged.add(account)
      this.options.log(`backup-realtime: ${account}: changes found by polling that the AppServer did not push (NOTIFY): `
        + `captured up to ${this.pushedIntervalMs / 1000} s late; polled every ${CLOSE_POLL_MS / 1000} s for the next ${CLOSE_WATCH_MS / 60_000} minutes `
        + 'and its push connection opened anew (getServices counts these as push.missed)')
    }, PUSH_LATE_MS).unref()
  }

  /**
   * How late a polled cycle (not pushed, not an account's first, not one rescheduled by a failure of the server)
   * starts after it was due: said when the polling falls behind (see PollingDelay).
   */
  private notePollDelay(account: string, now: number): void {
    const due = this.due.get(account) ?? 0
    if (due === 0 || this.pushedDue.has(account) || !this.certain.has(account)) return
    const {connections, mode} = this.pool.status
    const polled = this.accounts.length - (mode === 'notify' ? connections : 0)
    const line = this.pollDelay.note(now - due, polled, this.intervalMs)
    if (line) this.options.log(`backup-realtime: ${line}`)
  }

  private interval(account: string): number {
    if (this.polledClosely(account)) return Math.min(CLOSE_POLL_MS, this.intervalMs)
    return this.pool.modeOf(account) === 'notify' ? this.pushedIntervalMs : this.intervalMs
  }

  /** Whether the account is in its close watch (CLOSE_WATCH_MS); a watch that has run out is forgotten. */
  private polledClosely(account: string): boolean {
    const until = this.closelyUntil.get(account)
    if (until !== undefined && until > Date.now()) return true
    this.closelyUntil.delete(account)
    return false
  }

  private readingAccounts = false

  private async refreshAccounts(signal: AbortSignal): Promise<void> {
    this.readingAccounts = true
    // A directory that hangs (an LDAP down behind zmprov) keeps the command running up to its 5-minute timeout; until
    // then nothing would say why no account is followed (at start) or why new ones are not. Said once, not killed:
    // a slow directory that does answer is better than none.
    const started = Date.now()
    const silent = setTimeout(() => {
      this.accountsSilence = `the accounts command has not answered for ${this.accountsSilentMs / 1000} s: ${this.options.settings.accountsCommand}`
      this.options.log(`backup-realtime: ${this.accountsSilence} (still waiting for it)`)
    }, this.accountsSilentMs)
    try {
      const directory = await runAccountsCommand(this.options.settings.accountsCommand, signal)
      // Treated as a failing command: the accounts already followed are kept, and the status says why.
      if (directory.length === 0) throw noAccountListed(this.options.settings.accountsCommand)
      // Read again with the list: setting backupEnabled takes effect within a refresh, without a restart.
      const {backedUp: listed, notBackedUp} = await splitBackedUp(this.options.catalog.db, directory)
      const leftOut = [...notBackedUp].filter(([account]) => !this.notBackedUp.has(account))
      if (leftOut.length > 0) this.options.log(`backup-realtime: ${notBackedUpLine(new Map(leftOut))}; no longer followed`)
      this.notBackedUp = new Set(notBackedUp.keys())
      const added = listed.filter(account => !this.due.has(account))
      const present = new Set(listed)
      const dropped = this.accounts.filter(account => !present.has(account) && !notBackedUp.has(account))
      if (dropped.length > 0) this.options.log(`backup-realtime: ${droppedLine(dropped, this.accounts.length, listed.length)}`)
      for (const account of this.accounts) {
        if (!present.has(account)) {
          this.due.delete(account)
          this.accountFailures.delete(account)
          this.pushedDue.delete(account)
          await this.dropSession(account)
        }
      }

      for (const account of added) this.due.set(account, 0)
      if (added.length > 0 && this.accounts.length > 0) this.options.log(`backup-realtime: following ${added.length} new account(s)`)
      this.accounts = listed
      this.pool.follow(listed)
      if (this.accountsError !== undefined) this.options.log(`backup-realtime: the accounts command works again: ${listed.length} account(s) listed`)
      this.accountsError = undefined
    } catch (error) {
      // Said once while it lasts: the command runs again every minute, for days if nobody fixes it.
      const said = this.accountsError === (error as Error).message
      if (!signal.aborted) this.accountsError = (error as Error).message
      if (!signal.aborted && !said) this.options.log(`backup-realtime: ${(error as Error).message}; keeping the ${this.accounts.length} accounts already followed`)
    } finally {
      clearTimeout(silent)
      if (this.accountsSilence !== undefined && !signal.aborted && this.accountsError === undefined) {
        this.options.log(`backup-realtime: the accounts command answered after ${Math.round((Date.now() - started) / 100) / 10} s`)
      }

      this.accountsSilence = undefined
      this.accountsReadAt = Date.now()
      this.readingAccounts = false
    }
  }

  /**
   * The account due the longest, a pushed one first (pushedDue), not being synchronised already; none while the server
   * is being waited out.
   */
  private nextAccount(): string | undefined {
    const now = Date.now()
    if (now < this.pausedUntil) return undefined
    return this.dueFirst(now, [...this.pushedDue].map(account => [account, this.due.get(account) ?? Number.POSITIVE_INFINITY]))
      ?? this.dueFirst(now, this.due)
  }

  private dueFirst(now: number, candidates: Iterable<[string, number]>): string | undefined {
    let best: string | undefined
    let bestDue = Number.POSITIVE_INFINITY
    for (const [account, due] of candidates) {
      if (due <= now && due < bestDue && !this.busy.has(account)) {
        best = account
        bestDue = due
      }
    }

    return best
  }

  private waitMs(): number {
    const now = Date.now()
    let next = Math.max(this.pausedUntil, Math.min(this.accountsReadAt + this.accountsRefreshMs, now + this.intervalMs))
    for (const [account, due] of this.due) if (!this.busy.has(account)) next = Math.min(next, Math.max(due, this.pausedUntil))
    return Math.min(Math.max(next - now, 20), this.intervalMs)
  }

  /** The account's own failure, if any, is over: its backoff ends, and the line that said it is answered. */
  private accountWorks(account: string): void {
    this.accountBackoff.delete(account)
    if (this.accountFailures.delete(account)) this.options.log(`backup-realtime: ${account}: works again`)
  }

  private failed(account: string, error: Error): void {
    // A full, read-only or failing backup volume fails every account the same way, as a server down does: it is
    // waited out once for all of them, in one line naming the backup path and the fix rather than a bare ENOSPC
    // per account and per retry.
    const storage = storageFailure(error, this.options.catalog.home)
    if (storage || (error instanceof ImapError && error.scope === 'server')) {
      let message = storage?.message ?? error.message
      const now = Date.now()
      if (now >= this.pausedUntil) {
        message = (closedAtConnect(error) && this.yieldRoom()) || message
        this.pausedUntil = now + this.serverBackoff
        this.failure = {error: message, retryAt: this.pausedUntil, storage: storage !== undefined}
        this.options.log(`backup-realtime: ${message}; retrying in ${this.serverBackoff / 1000} s`)
        this.serverBackoff = Math.min(this.serverBackoff * 2, MAX_BACKOFF_MS)
      }

      this.due.set(account, 0)
      return
    }

    const backoff = Math.min((this.accountBackoff.get(account) ?? 500) * 2, MAX_BACKOFF_MS)
    this.accountBackoff.set(account, backoff)
    this.due.set(account, Date.now() + backoff)
    if (this.accountFailures.get(account) === error.message) return
    this.accountFailures.set(account, error.message)
    this.options.log(`backup-realtime: ${account}: ${error.message}; retrying with backoff (up to every ${MAX_BACKOFF_MS / 1000} s) until it works`)
  }

  /**
   * The server closes new connections while push connections of ours are in force: its connection limit is met, and
   * the pushes (and the sessions kept open between cycles) would keep the cycles out for good. Fewer push connections
   * and no idle session make room; the line saying so (which replaces the "check backupAppServerUrl" of a server down)
   * names the setting. Undefined when no push connection is in force: then the server is not answering at all.
   */
  private yieldRoom(): string | undefined {
    const before = this.pool.status.connections
    const size = this.pool.yieldRoom()
    if (size === undefined) return undefined
    // Sessions kept open between cycles take as many processes as pushes: from now on only the cycles running hold one.
    this.maxSessions = this.concurrency
    for (const account of this.sessions.keys()) {
      if (!this.busy.has(account)) this.dropSession(account).catch(() => {})
    }

    return `the AppServer at ${this.options.settings.url} closes new connections while ${before} push connections of ours are open: `
      + 'its connection limit is reached (Dovecot: service imap { process_limit }, one imap process per connection); '
      + `keeping at most ${size} push connections, and none open between cycles, until the daemon restarts; the other accounts are polled`
  }

  private async session(account: string, signal: AbortSignal): Promise<ImapSession> {
    const open = this.sessions.get(account)
    if (open) {
      this.sessions.delete(account)
      this.sessions.set(account, open)
      return open
    }

    const {onCommand} = this.options
    const session = await ImapSession.open(this.options.settings, account, {signal, onCommand: onCommand ? command => onCommand(account, command) : undefined})
    this.witness.noteOpened(account)
    this.sessions.set(account, session)
    while (this.sessions.size > this.maxSessions) {
      const oldest = [...this.sessions.keys()].find(name => !this.busy.has(name))
      if (oldest === undefined) break
      await this.dropSession(oldest)
    }

    return session
  }

  private async dropSession(account: string): Promise<void> {
    const session = this.sessions.get(account)
    if (!session) return
    this.sessions.delete(account)
    await session.close()
  }
}

/**
 * The line saying which followed accounts a new run of the accounts command no longer lists. Dropped silently, a
 * command that exits 0 with the wrong list (another server's accounts, nothing at all) stopped the capture of every
 * account while the log spoke only of "new" accounts and getServices showed the capture running.
 */
function droppedLine(dropped: readonly string[], before: number, listed: number): string {
  const shown = dropped.slice(0, 5).join(', ') + (dropped.length > 5 ? ` and ${dropped.length - 5} more` : '')
  if (dropped.length === before) {
    return `the accounts command lists none of the ${before} accounts followed until now (${shown}), only ${listed} other${listed === 1 ? '' : 's'}: `
      + 'is it reading the right directory? They are no longer followed, and nothing is recorded deleted'
  }

  return `the accounts command no longer lists ${dropped.length} account${dropped.length === 1 ? '' : 's'} followed until now (${shown}): `
    + 'no longer followed; nothing is recorded deleted (a SmartScan records the accounts gone from the directory)'
}
