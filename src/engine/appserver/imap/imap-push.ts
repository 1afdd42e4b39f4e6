import type {ImapFlow} from 'imapflow'

import type {ImapSettings} from './imap-settings.js'

import {sleep} from '../../sleep.js'
import {connectAsAdmin} from './admin-connection.js'

/**
 * How the server pushes an account's changes: NOTIFY (RFC 5465) covers every mailbox of the account on one
 * connection; plain IDLE covers INBOX only (the other folders are left to polling).
 */
export type PushMode = 'idle' | 'notify'

export interface ImapPushOptions {
  /** Something changed in the account (or may have, after a reconnection): run its sync cycle. */
  onChange: () => void
  /** The server offers neither NOTIFY nor IDLE: this connection gave up, polling has to do. */
  onUnsupported?: () => void
  /** Told each time the connection is lost, with the wait before the next attempt. */
  onLost?: (error: string, retryMs: number) => void
  /** False: IDLE on INBOX even where the server offers NOTIFY (a server whose NOTIFY is known not to deliver). */
  notify?: boolean
  firstBackoffMs?: number
  maxBackoffMs?: number
}

// Every change of every personal mailbox. FlagChange needs MessageNew and MessageExpunge beside it (RFC 5465 5.1);
// keywords are flags. The selected mailbox (INBOX, kept EXAMINEd so that IDLE can run) is reported by its own
// EXISTS/EXPUNGE/FETCH, the others by STATUS, folder creation, rename and deletion by LIST.
const EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange']
// RFC 2177: a server may drop a client that stays in IDLE for 30 minutes; start it again well before.
const IDLE_RESTART_MS = 10 * 60_000

const NOTIFY_SET = [
  atom('SET'),
  [atom('selected'), EVENTS.map(name => atom(name))],
  [atom('personal'), [...EVENTS, 'MailboxName', 'SubscriptionChange'].map(name => atom(name))],
]

/** What imapflow keeps internal but NOTIFY needs: sending a command it does not know, and hearing STATUS and LIST. */
interface ImapFlowInternals {
  exec(command: string, attributes: unknown[]): Promise<{next?: () => void}>
  untaggedHandlers: Record<string, ((untagged: unknown) => void) | undefined>
}

/**
 * One account's push connection, with the admin credential: INBOX EXAMINEd (read-only, nothing changes \Seen),
 * NOTIFY for every mailbox where the server offers it, and IDLE to hear it. A push never writes anything: it only
 * says that the account changed, and the sync cycle (which compares with the catalog) does the rest, so a push lost,
 * doubled or early is harmless. A lost connection is reopened with backoff, and each reopening is reported as a
 * change too: what happened while it was down is caught up by the cycle.
 */
export class ImapPush {
  private readonly controller = new AbortController()
  private client: ImapFlow | undefined
  private running: Promise<void> | undefined
  private current: null | PushMode = null
  /** Set by reopen(): the connection's end is not a loss, no backoff before the next one. */
  private reopening = false
  private readonly changed = () => this.options.onChange()

  constructor(
    private readonly settings: ImapSettings,
    readonly account: string,
    private readonly options: ImapPushOptions,
  ) {}

  /** The push in force now: null while connecting, reconnecting or closed. */
  get mode(): null | PushMode {
    return this.current
  }

  start(): void {
    this.running ??= this.loop()
  }

  /**
   * Opens the connection anew, at once, so that the server watches the account anew; once in force it reports a change
   * (as every new connection does), and a cycle catches up. For a connection found missing changes (ImapRealtime): if
   * the server process behind it no longer reports anything, a new one starts with a fresh watch. Not NOTIFY SET again
   * on the same connection: after a second NOTIFY SET, Dovecot 2.3.19 reports nothing at all on it. Does nothing unless
   * NOTIFY is in force.
   */
  reopen(): void {
    const {client} = this
    if (this.current !== 'notify' || !client) return
    this.reopening = true
    client.close()
  }

  async close(): Promise<void> {
    this.controller.abort()
    const {client} = this
    if (client) {
      try {
        // Ends IDLE (DONE) and logs out; close() below cuts it if the server does not answer.
        if (client.usable) await Promise.race([client.logout(), sleep(1000)])
      } catch {
        // Closing anyway.
      } finally {
        client.close()
      }
    }

    await this.running
  }

  private async loop(): Promise<void> {
    const {signal} = this.controller
    const first = this.options.firstBackoffMs ?? 1000
    const max = this.options.maxBackoffMs ?? 30_000
    let backoff = first
    while (!signal.aborted) {
      let error = 'the connection closed'
      try {
        const mode = await this.watch(() => {
          backoff = first
        })
        if (mode === undefined) {
          this.options.onUnsupported?.()
          return
        }
      } catch (error_) {
        error = (error_ as Error).message
      } finally {
        this.current = null
        this.client?.close()
        this.client = undefined
      }

      if (signal.aborted) return
      if (this.reopening) {
        this.reopening = false
        continue
      }

      // Jitter: after a server restart every account's push reconnects, not all in the same millisecond.
      const wait = Math.round(backoff * (0.75 + (Math.random() / 2)))
      this.options.onLost?.(error, wait)
      await sleep(wait, signal)
      backoff = Math.min(backoff * 2, max)
    }
  }

  /**
   * One connection: set up, then IDLE until it drops or close() is called. Undefined when the server cannot push
   * (no IDLE); `watching` is told once the push is in force.
   */
  private async watch(watching: () => void): Promise<PushMode | undefined> {
    const {signal} = this.controller
    const client = await connectAsAdmin(this.settings, this.account, {signal, maxIdleTime: IDLE_RESTART_MS})
    this.client = client
    if (signal.aborted) return 'idle'
    if (!client.capabilities.has('IDLE')) return undefined
    const {changed} = this
    client.on('exists', changed)
    client.on('expunge', changed)
    client.on('flags', changed)
    await client.mailboxOpen('INBOX', {readOnly: true})
    let mode: PushMode = 'idle'
    if (this.options.notify !== false && client.capabilities.has('NOTIFY')) {
      const internals = client as unknown as ImapFlowInternals
      internals.untaggedHandlers.STATUS = changed
      internals.untaggedHandlers.LIST = changed
      try {
        const response = await internals.exec('NOTIFY', NOTIFY_SET)
        response.next?.()
        mode = 'notify'
      } catch {
        // Advertised but refused (a proxy in front of the real server, a partial implementation): IDLE on INBOX.
      }
    }

    this.current = mode
    watching()
    // Whatever changed before the push was in force (the first cycle ran earlier, or the connection was down).
    changed()
    while (!signal.aborted && client.usable) {
      const started = Date.now()
      if (await client.idle() === false && client.usable) throw new Error('IDLE was refused')
      // IDLE ends when the connection does; one that ends at once while the connection stays must not spin.
      if (Date.now() - started < 100 && client.usable) await sleep(1000, signal)
    }

    return mode
  }
}

function atom(value: string): {type: 'ATOM'; value: string} {
  return {type: 'ATOM', value}
}
