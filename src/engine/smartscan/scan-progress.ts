import type {ProgressSink} from '../progress.js'
import type {AccountSyncStats} from './imap-account-feed.js'

export const SCAN_TOTALS = ['foldersRead', 'listed', 'foldersCreated', 'foldersRenamed', 'foldersDeleted', 'created', 'moved', 'flagsChanged', 'deleted', 'verified', 'repaired', 'bytesRead'] as const
export type ScanTotals = Record<(typeof SCAN_TOTALS)[number], number>

/** How often an account still being scanned says how far it is, by default. */
export const DEFAULT_PROGRESS_EVERY_MS = 10_000

interface Running {
  stats: AccountSyncStats
  toldAt: number
}

/**
 * What a SmartScan tells whoever watches it while accounts are still being scanned. The initial scan of a large
 * mailbox takes hours, and before, nothing moved between its "0 scanned" and its end: `monitor` and the command's
 * output looked hung. Now the counters (the operation's record, which `monitor` and getAllOperations show) count the
 * accounts still running as far as they got, batch by batch, and an account running longer than `every` says how
 * far it is, at most once per `every`, so that a log does not fill with one line per batch.
 */
export class ScanProgress {
  private readonly running = new Map<string, Running>()

  constructor(
    private readonly sink: ProgressSink,
    private readonly every: number = DEFAULT_PROGRESS_EVERY_MS,
  ) {}

  /** The account's scan took a batch (or finished a folder): `stats` are its figures so far. Its first line is due `every` after its first batch. */
  advanced(account: string, stats: AccountSyncStats, finished: {accounts: number; scanned: number; failed: number; totals: ScanTotals}): void {
    const running = this.running.get(account) ?? {stats, toldAt: Date.now()}
    running.stats = stats
    this.running.set(account, running)
    this.sink({kind: 'counters', counters: this.counters(finished)})
    if (Date.now() - running.toldAt < this.every) return
    running.toldAt = Date.now()
    this.sink({kind: 'step', account, message: `still scanning: ${howFar(stats)}`})
  }

  /** The account ended (scanned or failed): its figures now count among the finished ones. */
  ended(account: string): void {
    this.running.delete(account)
  }

  /** The scan ended: the accounts it left running count no more (their figures include batches never committed). */
  stopped(): void {
    this.running.clear()
  }

  /** The finished accounts' totals plus the running ones' figures so far. */
  counters(finished: {accounts: number; scanned: number; failed: number; totals: ScanTotals}): Record<string, number> {
    const totals = {...finished.totals}
    for (const {stats} of this.running.values()) {
      for (const key of SCAN_TOTALS) totals[key] += stats[key]
    }

    return {
      accounts: finished.accounts, scanned: finished.scanned, failed: finished.failed, running: this.running.size, ...totals,
    }
  }
}

/** "3,950 new, 512 MiB read so far, of 120,000 messages on the server" (the figures that are not zero). */
export function howFar(stats: AccountSyncStats): string {
  const parts: string[] = []
  if (stats.created > 0) parts.push(`${count(stats.created)} new`)
  if (stats.moved > 0) parts.push(`${count(stats.moved)} moved`)
  if (stats.flagsChanged > 0) parts.push(`${count(stats.flagsChanged)} flag change${stats.flagsChanged === 1 ? '' : 's'}`)
  if (stats.deleted > 0) parts.push(`${count(stats.deleted)} deleted`)
  if (stats.verified > 0) parts.push(`${count(stats.verified)} verified`)
  if (stats.bytesRead > 0) parts.push(`${mebibytes(stats.bytesRead)} read`)
  const done = parts.length > 0 ? parts.join(', ') : 'nothing changed'
  return `${done} so far, of ${count(stats.messages)} message${stats.messages === 1 ? '' : 's'} on the server`
}

function count(value: number): string {
  return value.toLocaleString('en-US')
}

function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return `${mib < 10 ? mib.toFixed(1) : Math.round(mib).toLocaleString('en-US')} MiB`
}
