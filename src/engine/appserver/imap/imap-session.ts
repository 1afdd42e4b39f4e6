import type {
  FetchMessageObject, ImapFlow, Logger, MailboxObject, StatusObject,
} from 'imapflow'

import type {ImapSettings} from './imap-settings.js'

import {hashStream} from '../../blobstore/blob-stream-write.js'
import {
  closeAdminConnection, connectAsAdmin, enableExtensions, guardImap,
} from './admin-connection.js'
import {fetchAnswers} from './fetch-answers.js'
import {explainSessionError, unreadableInbox} from './imap-errors.js'
import {folderPathOf, normalizeFlags} from './imap-identity.js'
import {HEADER_FIELDS, type MessageHeaders, parseHeaders} from './message-headers.js'
import {isOwnMailbox} from './own-mailboxes.js'

/** What LIST-STATUS (or SELECT) says about a mailbox: enough to tell whether anything changed in it. */
export interface FolderStatus {
  uidvalidity: number
  uidnext: number
  /** HIGHESTMODSEQ, as a decimal string: it may exceed 2^53. */
  highestmodseq: string
  messages: number
}

export interface ServerFolder {
  /** The mailbox name as the server spells it (with its own delimiter). */
  mailbox: string
  /** The catalog path: "/" + levels joined by "/". */
  path: string
  delimiter: null | string
  /** \Sent, \Trash, ... when the server says so. */
  specialUse: null | string
  /** \Noselect mailboxes hold no messages, only children. */
  selectable: boolean
  status: FolderStatus | null
}

export interface MessageMeta {
  uid: number
  flags: string[]
  modseq: string
  /** INTERNALDATE in ms since the epoch. */
  internalDate: null | number
  size: number
  /** Message-ID, Subject, From, To, Date. */
  headers: MessageHeaders
}

export interface FolderRead {
  /** The mailbox as EXAMINE found it: the position to record once its changes are in the backup. */
  status: FolderStatus
  /** Every message (complete) or those changed since the baseline's HIGHESTMODSEQ. */
  messages: MessageMeta[]
  /** UIDs the server reported expunged since the baseline (VANISHED), or during the read. */
  vanished: number[]
  /** True when `messages` lists the whole mailbox: no usable baseline (none, or another UIDVALIDITY). */
  complete: boolean
  /** The bodies of new messages read with the listing (readFolder's `prefetch`), by UID. */
  bodies?: Map<number, Buffer>
}

/** Bodies a read fetches while the mailbox is selected: new messages from `fromUid`, up to `maxBytes`. */
export interface Prefetch {
  fromUid: number
  maxBytes: number
}

export interface SessionOptions {
  /** Told the verb of every command sent (LIST, SELECT, UID FETCH, ...), never its arguments. */
  onCommand?: (command: string) => void
  signal?: AbortSignal
}

const REQUIRED_EXTENSIONS = ['CONDSTORE', 'QRESYNC']
/** A large message is read in pieces of this size (bodyPieces): one FETCH each, a piece in memory at a time. */
const BODY_PIECE_BYTES = 1024 * 1024

const METADATA = {
  uid: true as const, flags: true, size: true as const, internalDate: true, headers: HEADER_FIELDS,
}

/**
 * One IMAP connection to one account, opened with the admin credential: SASL PLAIN with the account as the
 * authorization identity, or Dovecot's `<account>*<admin>` login. Everything it reads is read-only (EXAMINE,
 * BODY.PEEK): a backup never changes \Seen or anything else on the server.
 */
export class ImapSession {
  private constructor(
    private readonly client: ImapFlow,
    private readonly settings: ImapSettings,
    readonly account: string,
    private readonly signal?: AbortSignal,
  ) {}

  static async open(settings: ImapSettings, account: string, options: SessionOptions = {}): Promise<ImapSession> {
    const client = await connectAsAdmin(settings, account, {
      logger: commandLogger(options.onCommand), signal: options.signal, requireExtensions: REQUIRED_EXTENSIONS, deferEnable: true,
    })
    return new ImapSession(client, settings, account, options.signal)
  }

  /**
   * Every mailbox of the account's own with its status, in one LIST ... RETURN (STATUS ...) where the server has
   * LIST-STATUS.
   */
  async folders(): Promise<ServerFolder[]> {
    // Dovecot answers the STATUS of the mailbox this session has selected from the session's own view of it, which
    // moves on only at the session's next command in that mailbox: a cycle that read a folder and then met a
    // conflict read it again with the statuses of before, and recorded messages delivered meanwhile as seen.
    if (this.client.mailbox) await this.guard(() => this.client.mailboxClose())
    const entries = await this.guard(() => this.client.list({
      statusQuery: {
        messages: true, uidNext: true, uidValidity: true, highestModseq: true,
      },
    }))
    const folders: ServerFolder[] = []
    for (const entry of entries) {
      // A \NonExistent name is only the parent of real mailboxes: no folder of its own.
      if (entry.flags.has(String.raw`\NonExistent`)) continue
      // Other users' shared folders and public ones are theirs, not this account's mail (isOwnMailbox).
      if (!isOwnMailbox(entry.path, this.client.namespaces)) continue
      let selectable = !entry.flags.has(String.raw`\Noselect`)
      let {status} = entry
      if (selectable && (!status || (status as {error?: unknown}).error)) {
        const own = await this.statusOfUnlisted(entry.path)
        if (own === 'nonexistent') {
          // Dovecot (mailbox_list_index) lists a deleted mailbox that has children without \Noselect and answers its
          // STATUS with "NO Mailbox doesn't exist": a parent name with no messages of its own, as a \Noselect one.
          // Failing here failed every later cycle of the account, so nothing more of it was captured.
          selectable = false
        } else if (own) {
          status = own
        } else {
          throw explainSessionError((status as {error?: unknown} | undefined)?.error ?? new Error(`no STATUS for ${entry.path}`), this.settings, this.account)
        }
      }

      folders.push({
        mailbox: entry.path,
        path: folderPathOf(entry.path, entry.delimiter),
        delimiter: entry.delimiter || null,
        specialUse: entry.specialUse ?? null,
        selectable,
        status: selectable && status
          ? {
            uidvalidity: Number(status.uidValidity ?? 0),
            uidnext: status.uidNext ?? 0,
            highestmodseq: String(status.highestModseq ?? 0),
            messages: status.messages ?? 0,
          }
          : null,
      })
    }

    if (!folders.some(folder => folder.selectable && folder.path.toLowerCase() === '/inbox')) throw unreadableInbox(this.settings, this.account)
    return folders
  }

  /**
   * Reads a mailbox's messages (metadata, not content): with a baseline of the same UIDVALIDITY, only what changed
   * since its HIGHESTMODSEQ, with the UIDs expunged since (`UID FETCH 1:* (...) (CHANGEDSINCE m VANISHED)`);
   * otherwise every message. With `prefetch` it also fetches the bodies of the new messages (UIDs from `fromUid`, in
   * order, while they fit in `maxBytes`) in the same selection of the mailbox: an incremental SmartScan then does not
   * select every changed folder a second time for a handful of new messages.
   */
  async readFolder(mailbox: string, baseline: null | {highestmodseq: string; uidvalidity: number}, prefetch?: Prefetch): Promise<FolderRead> {
    return this.guard(async () => {
      const lock = await this.examineAfresh(mailbox)
      const vanished = new Set<number>()
      const onExpunge = (event: {path: string; uid?: number}) => {
        if (event.path === mailbox && event.uid) vanished.add(event.uid)
      }

      this.client.on('expunge', onExpunge)
      try {
        const status = statusOf(this.client.mailbox as MailboxObject)
        const incremental = baseline !== null && baseline.uidvalidity === status.uidvalidity
        const messages: MessageMeta[] = []
        const options = {uid: true as const, ...(incremental ? {changedSince: BigInt(baseline.highestmodseq)} : {})}
        for (const message of await fetchAnswers(this.client, '1:*', METADATA, options)) messages.push(metaOf(message))
        const bodies = new Map<number, Buffer>()
        const wanted = prefetch ? newUidsWithin(messages, prefetch) : []
        if (wanted.length > 0) {
          for await (const message of this.client.fetch(uidSet(wanted), {uid: true, source: true}, {uid: true})) {
            if (message.source) bodies.set(message.uid, message.source)
          }
        }

        return {
          status, messages, vanished: [...vanished], complete: !incremental, bodies,
        }
      } finally {
        this.client.off('expunge', onExpunge)
        lock.release()
      }
    })
  }

  /**
   * A mailbox's status (EXAMINE) and the UIDs of its messages (UID SEARCH ALL), without their metadata: a large folder
   * new to the backup is listed so, 8 bytes a message, and its metadata (about 700 bytes a message with the headers)
   * read a window at a time with readMessages, as the scan reaches it.
   */
  async uids(mailbox: string): Promise<{status: FolderStatus; uids: number[]}> {
    return this.guard(async () => {
      const lock = await this.examineAfresh(mailbox)
      try {
        const status = statusOf(this.client.mailbox as MailboxObject)
        const found = await this.client.search({all: true}, {uid: true})
        // Ascending, as the windows read by range need them (imapflow sorts them too).
        return {status, uids: Array.isArray(found) ? found.sort((a, b) => a - b) : []}
      } finally {
        lock.release()
      }
    })
  }

  /**
   * The metadata of a mailbox's messages with UIDs from `first` to `last` (a range, however sparse the UIDs: the
   * command line stays short), and the mailbox's status.
   */
  async readMessages(mailbox: string, first: number, last: number): Promise<{messages: MessageMeta[]; status: FolderStatus}> {
    return this.guard(async () => {
      const lock = await this.examineAfresh(mailbox)
      try {
        const status = statusOf(this.client.mailbox as MailboxObject)
        const messages = (await fetchAnswers(this.client, `${first}:${last}`, METADATA, {uid: true})).map(message => metaOf(message))
        return {messages, status}
      } finally {
        lock.release()
      }
    })
  }

  /** The UID and RFC822.SIZE of every message of a mailbox (about 30 bytes a message), nothing else. */
  async sizes(mailbox: string): Promise<Array<{size: number; uid: number}>> {
    return this.guard(async () => {
      const lock = await this.examineAfresh(mailbox)
      try {
        if ((this.client.mailbox as MailboxObject).exists === 0) return []
        const found: Array<{size: number; uid: number}> = []
        for await (const message of this.client.fetch('1:*', {uid: true, size: true})) found.push({uid: message.uid, size: message.size ?? -1})
        return found
      } finally {
        lock.release()
      }
    })
  }

  /** The exact bytes (BODY.PEEK[]) of some messages of a mailbox, by UID; a UID expunged meanwhile is absent. */
  async bodies(mailbox: string, uids: readonly number[]): Promise<Map<number, Buffer>> {
    const result = new Map<number, Buffer>()
    if (uids.length === 0) return result
    return this.guard(async () => {
      const lock = await this.examine(mailbox)
      try {
        for await (const message of this.client.fetch(uidSet(uids), {uid: true, source: true}, {uid: true})) {
          if (message.source) result.set(message.uid, message.source)
        }

        return result
      } finally {
        lock.release()
      }
    })
  }

  /**
   * The exact bytes of one message, read a piece at a time (`BODY.PEEK[]<offset.length>`): a large message is stored
   * as it arrives instead of being held whole. A message expunged meanwhile ends early: the caller compares the
   * length with RFC822.SIZE.
   * @yields each piece, in order
   */
  async * bodyPieces(mailbox: string, uid: number, pieceBytes = BODY_PIECE_BYTES): AsyncGenerator<Buffer> {
    for (let offset = 0; ; offset += pieceBytes) {
      const piece = await this.guard(async () => {
        const lock = await this.examine(mailbox)
        try {
          const message = await this.client.fetchOne(String(uid), {uid: true, source: {start: offset, maxLength: pieceBytes}}, {uid: true})
          return message ? message.source : undefined
        } finally {
          lock.release()
        }
      })
      if (!piece || piece.length === 0) return
      yield piece
      if (piece.length < pieceBytes) return
    }
  }

  /**
   * The sha256 of a message hashed as its pieces arrive (bodyPieces), never held whole; undefined when what arrived is
   * not `message.size` long (expunged meanwhile, or a server whose RFC822.SIZE is not exact).
   */
  async digestOf(mailbox: string, message: Pick<MessageMeta, 'size' | 'uid'>): Promise<undefined | {digest: string; size: number}> {
    const hashed = await hashStream(this.bodyPieces(mailbox, message.uid))
    return hashed.size === message.size ? hashed : undefined
  }

  /**
   * Whether the mailbox holds a message at this UID now (at this UIDVALIDITY). False when the mailbox is gone: a
   * message found elsewhere with the same content then moved, rather than being copied.
   */
  async holds(mailbox: string, place: {uid: number; uidvalidity: number}): Promise<boolean> {
    return this.guard(async () => {
      let lock: {release(): void}
      try {
        lock = await this.examineAfresh(mailbox)
      } catch (error) {
        if (mailboxMissing(error)) return false
        throw error
      }

      try {
        if (Number((this.client.mailbox as MailboxObject).uidValidity) !== place.uidvalidity) return false
        const found = await this.client.search({uid: String(place.uid)}, {uid: true})
        return Array.isArray(found) && found.includes(place.uid)
      } finally {
        lock.release()
      }
    })
  }

  async close(): Promise<void> {
    await closeAdminConnection(this.client)
  }

  /** Opens a mailbox read-only (EXAMINE), after the session's deferred ENABLE: QRESYNC applies from the first one. */
  private async examine(mailbox: string): Promise<{release(): void}> {
    await enableExtensions(this.client, this.settings, REQUIRED_EXTENSIONS)
    return this.client.getMailboxLock(mailbox, {readOnly: true})
  }

  /**
   * EXAMINE even when the mailbox is still selected from an earlier read (imapflow would keep that selection): a
   * session kept between realtime cycles otherwise read a folder in the server's view of that earlier moment, with
   * the status imapflow pieced together since, and a message delivered meanwhile was not in its answer at all.
   */
  private async examineAfresh(mailbox: string): Promise<{release(): void}> {
    const selected = this.client.mailbox as false | MailboxObject
    if (selected && selected.path === mailbox) await this.client.mailboxClose()
    return this.examine(mailbox)
  }

  /**
   * The status of a listed mailbox that LIST-STATUS gave none for, asked with EXAMINE (which says why, where STATUS
   * through imapflow does not): 'nonexistent' when the server says there is no such mailbox, undefined when it
   * refuses for another reason (the caller fails as before: a folder is never taken as empty on a doubt).
   */
  private async statusOfUnlisted(mailbox: string): Promise<'nonexistent' | StatusObject | undefined> {
    let lock: undefined | {release(): void}
    try {
      lock = await this.examine(mailbox)
      const box = this.client.mailbox as MailboxObject
      const status = {
        path: mailbox, messages: box.exists, uidNext: box.uidNext, uidValidity: box.uidValidity, highestModseq: box.highestModseq,
      }
      // Unselected again (CLOSE expunges nothing after EXAMINE): a session kept open reads statuses by LIST-STATUS.
      await this.client.mailboxClose()
      return status
    } catch (error) {
      return mailboxMissing(error) ? 'nonexistent' : undefined
    } finally {
      lock?.release()
    }
  }

  /** Runs IMAP work, turning an abort into OperationAborted and a failure into one clear line. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    return guardImap({
      account: this.account, client: this.client, settings: this.settings, signal: this.signal,
    }, work)
  }
}

/** Whether the server refused to open a mailbox because there is no such mailbox. */
function mailboxMissing(error: unknown): boolean {
  const {responseStatus, responseText, serverResponseCode} = error as {responseStatus?: string; responseText?: string; serverResponseCode?: string}
  return responseStatus === 'NO' && (serverResponseCode === 'NONEXISTENT' || /doesn't exist|does not exist|no such (mailbox|folder)/i.test(responseText ?? ''))
}

function metaOf(message: FetchMessageObject): MessageMeta {
  return {
    uid: message.uid,
    flags: normalizeFlags(message.flags ?? []),
    modseq: String(message.modseq ?? 0),
    internalDate: message.internalDate ? new Date(message.internalDate).getTime() : null,
    size: message.size ?? 0,
    headers: parseHeaders(message.headers),
  }
}

function statusOf(mailbox: MailboxObject): FolderStatus {
  return {
    uidvalidity: Number(mailbox.uidValidity),
    uidnext: mailbox.uidNext,
    highestmodseq: String(mailbox.highestModseq ?? 0),
    messages: mailbox.exists,
  }
}

/** The UIDs from `fromUid` on, in order, while their sizes add up to at most `maxBytes`. */
function newUidsWithin(messages: readonly MessageMeta[], {fromUid, maxBytes}: Prefetch): number[] {
  const fresh = messages.filter(m => m.uid >= fromUid).sort((a, b) => a.uid - b.uid)
  const uids: number[] = []
  let budget = maxBytes
  for (const message of fresh) {
    if (message.size > budget) break
    uids.push(message.uid)
    budget -= message.size
  }

  return uids
}

/** A compact UID set: runs of consecutive UIDs as ranges ("1:5,7,9:12"). */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b)
  const parts: string[] = []
  let start = sorted[0]
  let previous = sorted[0]
  for (const uid of [...sorted.slice(1), Number.NaN]) {
    if (uid === previous + 1) {
      previous = uid
      continue
    }

    parts.push(start === previous ? String(start) : `${start}:${previous}`)
    start = uid
    previous = uid
  }

  return parts.join(',')
}

/**
 * imapflow's log, reduced to the verb of each command the client sends. Nothing else is kept: the log also carries
 * the arguments, and a password must never reach a log.
 */
function ignore(): void {}

function commandLogger(onCommand?: (command: string) => void): false | Logger {
  if (!onCommand) return false
  const see = (entry: unknown) => {
    const {msg, src} = (entry ?? {}) as {msg?: unknown; src?: unknown}
    if (src !== 'c' || typeof msg !== 'string') return
    const match = /^\S+ (UID \S+|\S+)/.exec(msg)
    if (match) onCommand(match[1].toUpperCase())
  }

  return {
    trace: see, debug: see, info: see, warn: ignore, error: ignore, fatal: ignore,
  }
}
