/** Late by more than this, the polling is said to be behind; it has caught up under a fifth of it. */
const BEHIND_MS = 10_000

/**
 * How late the polled cycles start after they were due. Every account without a push connection is due about every
 * second, but each cycle is a login and a LIST-STATUS, a few at a time: on a server with hundreds of accounts beyond
 * the push pool a round takes tens of seconds (600 accounts on Dovecot: a change waited 33-51 s), while the README
 * said "about every second" and neither getServices nor the log said otherwise. This tells it: the delay of the last
 * polled cycle, and a line once when the polling falls behind and once when it has caught up.
 */
export class PollingDelay {
  private lastMs: null | number = null
  private behind = false

  constructor(private readonly behindMs = BEHIND_MS) {}

  /** The delay of the last polled cycle (null before any). */
  get ms(): null | number {
    return this.lastMs
  }

  /** A polled cycle starts `lateMs` after it was due; the line to log when the polling falls behind or catches up. */
  note(lateMs: number, polled: number, intervalMs: number): string | undefined {
    this.lastMs = Math.max(0, Math.round(lateMs))
    if (!this.behind && this.lastMs > this.behindMs) {
      this.behind = true
      return `polling runs ${Math.round(this.lastMs / 1000)} s behind (every ${intervalMs / 1000} s intended) for the ${polled} accounts `
        + 'without a push connection: a change in one of them is captured that late (the accounts that change get the push '
        + 'connections; getServices shows pollDelayMs)'
    }

    if (this.behind && this.lastMs < this.behindMs / 5) {
      this.behind = false
      return 'polling has caught up: the accounts without a push connection are polled on time again'
    }

    return undefined
  }
}
