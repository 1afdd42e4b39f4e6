import type {ImapSettings} from '../appserver/imap/imap-settings.js'

import {ImapPush, type PushMode} from '../appserver/imap/imap-push.js'

export interface PushPoolOptions {
  settings: ImapSettings
  /** Push connections kept at most (one per account); 0: polling only. */
  size: number
  /** A push for this account (or its push connection just opened, so the server answers): run its cycle now. */
  onChange: (account: string) => void
  /** The account's push connection was lost: a change just before may not have been pushed. */
  onLost: (account: string) => void
  log: (line: string) => void
  /** An account must have been quiet this long before another one takes its push connection. */
  evictAfterMs?: number
}

export interface PushPoolStatus {
  /** Push connections in force now. */
  connections: number
  /** How the server pushes (null before the first connection is up). */
  mode: null | PushMode | 'unsupported'
  /** Push connections kept at most now: the configured size, or less once the server's connection limit was met (yieldRoom). */
  size: number
}

/**
 * A bounded set of push connections, one per account: the accounts first listed fill it, and an account found
 * changed by polling takes the connection of the account quiet the longest, so that the busy accounts get pushes
 * and the rest are polled.
 */
export class PushPool {
  private readonly pushes = new Map<string, ImapPush>()
  private readonly lastActivity = new Map<string, number>()
  private followed = new Set<string>()
  private mode: PushPoolStatus['mode'] = null
  private unsupported = false
  private size: number

  constructor(private readonly options: PushPoolOptions) {
    this.size = options.size
  }

  get status(): PushPoolStatus {
    let connections = 0
    for (const push of this.pushes.values()) if (push.mode) connections++
    return {connections, mode: this.mode, size: this.size}
  }

  /** The push in force for the account now, if any. */
  modeOf(account: string): null | PushMode {
    return this.pushes.get(account)?.mode ?? null
  }

  /** Opens the account's push connection anew (ImapPush.reopen); nothing without one. */
  reopen(account: string): void {
    this.pushes.get(account)?.reopen()
  }

  /** The accounts to follow now: pushes of accounts gone are closed, free connections go to the others in order. */
  follow(accounts: readonly string[]): void {
    this.followed = new Set(accounts)
    for (const account of this.pushes.keys()) if (!this.followed.has(account)) this.drop(account)
    for (const account of this.lastActivity.keys()) if (!this.followed.has(account)) this.lastActivity.delete(account)
    for (const account of accounts) {
      if (this.pushes.size >= this.size) break
      if (!this.pushes.has(account)) this.open(account)
    }
  }

  /** The account changed: it gets a push connection, taking the one of the account quiet the longest if need be. */
  noteActivity(account: string): void {
    const now = Date.now()
    this.lastActivity.set(account, now)
    if (this.pushes.has(account) || !this.followed.has(account) || this.unsupported || this.size <= 0) return
    if (this.pushes.size >= this.size) {
      let quietest: string | undefined
      let oldest = now - (this.options.evictAfterMs ?? 60_000)
      for (const other of this.pushes.keys()) {
        const at = this.lastActivity.get(other) ?? 0
        if (at <= oldest) {
          quietest = other
          oldest = at
        }
      }

      if (quietest === undefined) return
      this.drop(quietest)
    }

    this.open(account)
  }

  /**
   * The server closes new connections while push connections of ours are in force: its connection limit is met
   * (Dovecot's service imap { process_limit }), and the push connections, which wait for ever, would keep the sync
   * cycles out of it for good: no account was captured any more. Halves the pool (the connections not in force first,
   * then those of the accounts quiet the longest); halving again on each refusal finds room within a few. Returns the
   * new size, or undefined when no push connection is in force (the refusal is not theirs to answer for).
   */
  yieldRoom(): number | undefined {
    const {connections} = this.status
    if (connections === 0) return undefined
    this.size = Math.floor(connections / 2)
    const order = [...this.pushes.keys()].sort((a, b) => Number(this.modeOf(a) !== null) - Number(this.modeOf(b) !== null)
      || (this.lastActivity.get(a) ?? 0) - (this.lastActivity.get(b) ?? 0))
    for (const account of order.slice(0, Math.max(0, this.pushes.size - this.size))) this.drop(account)
    return this.size
  }

  async close(): Promise<void> {
    const pushes = [...this.pushes.values()]
    this.pushes.clear()
    await Promise.all(pushes.map(push => push.close()))
  }

  private open(account: string): void {
    if (this.unsupported) return
    // A connection just opened is kept a while before it can be taken: no churn while the accounts are sorted out.
    if (!this.lastActivity.has(account)) this.lastActivity.set(account, Date.now())
    const push = new ImapPush(this.options.settings, account, {
      onChange: () => {
        if (this.mode === null && push.mode) this.noteMode(push.mode)
        this.options.onChange(account)
      },
      onLost: () => this.options.onLost(account),
      onUnsupported: () => {
        if (this.unsupported) return
        this.unsupported = true
        this.mode = 'unsupported'
        this.options.log('backup-realtime: the AppServer offers neither NOTIFY nor IDLE: changes are found by polling only')
        this.close().catch(() => {})
      },
    })
    this.pushes.set(account, push)
    push.start()
  }

  private noteMode(mode: PushMode): void {
    this.mode = mode
    this.options.log(mode === 'notify'
      ? 'backup-realtime: the AppServer pushes changes of every folder (NOTIFY)'
      : 'backup-realtime: the AppServer pushes changes of INBOX only (IDLE, no NOTIFY): other folders are polled')
  }

  private drop(account: string): void {
    const push = this.pushes.get(account)
    if (!push) return
    this.pushes.delete(account)
    push.close().catch(() => {})
  }
}
