import {ImapFlow, type MailboxObject} from 'imapflow'
import {createHash} from 'node:crypto'

import type {ImapSettings} from '../appserver/imap/imap-settings.js'

import {closeAdminConnection, connectAsAdmin, guardImap} from '../appserver/imap/admin-connection.js'
import {folderPathOf} from '../appserver/imap/imap-identity.js'
import {parseHeaders} from '../appserver/imap/message-headers.js'
import {canMultiAppend, multiAppend} from './multi-append.js'

/** A message to put into a mailbox: its exact bytes, flags and keywords, and INTERNALDATE. */
export interface RestoreMessage {
  bytes: Buffer
  digest: string
  flags: readonly string[]
  internalDate: Date | null
  messageId: null | string
}

/**
 * What a folder of the destination already holds, as counts not yet matched by a message of this restore: a second
 * restore recognises what the first one appended, and two identical messages of the source stay two.
 */
interface FolderIndex {
  /** `<Message-ID> <size>` of messages that have a Message-ID. */
  byMessageId: Map<string, number>
  /** sha256 of the bytes of messages without a Message-ID (few: read whole). */
  digests: Map<string, number>
}

export interface TargetFolder {
  mailbox: string
  path: string
  messages: number
}

/**
 * The writer a restore uses on the AppServer: one IMAP connection to the destination account, opened with the admin
 * credential like the SmartScan's sessions, that creates folders by catalog path and APPENDs messages with their
 * exact bytes, flags, keywords and internal date. It is idempotent per folder: a message whose Message-ID and size
 * (or, without a Message-ID, whose digest) is already in the folder is skipped, so running a restore twice
 * duplicates nothing.
 */
export class ImapRestoreTarget {
  private delimiter = '/'
  private readonly indexes = new Map<string, FolderIndex>()
  private readonly known = new Map<string, string>()

  private constructor(
    private readonly client: ImapFlow,
    private readonly settings: ImapSettings,
    readonly account: string,
    private readonly signal?: AbortSignal,
  ) {}

  static async open(settings: ImapSettings, account: string, signal?: AbortSignal): Promise<ImapRestoreTarget> {
    const client = await connectAsAdmin(settings, account, {signal})
    const target = new ImapRestoreTarget(client, settings, account, signal)
    await target.folders()
    return target
  }

  /** The destination's selectable mailboxes with their message counts. */
  async folders(): Promise<TargetFolder[]> {
    return this.guard(async () => {
      const entries = await this.client.list({statusQuery: {messages: true}})
      const folders: TargetFolder[] = []
      for (const entry of entries) {
        if (entry.delimiter) this.delimiter = entry.delimiter
        if (entry.flags.has(String.raw`\Noselect`) || entry.flags.has(String.raw`\NonExistent`)) continue
        const path = folderPathOf(entry.path, entry.delimiter)
        this.known.set(path.toLowerCase() === '/inbox' ? '/INBOX' : path, entry.path)
        folders.push({mailbox: entry.path, path, messages: entry.status?.messages ?? 0})
      }

      return folders
    })
  }

  /** The mailbox for a catalog path ("/Archive/2024"), created with its parents when missing. */
  async ensureFolder(path: string): Promise<string> {
    const segments = path.split('/').filter(Boolean)
    if (segments.length === 0) throw new Error(`no folder path: ${path}`)
    if (segments[0].toLowerCase() === 'inbox') segments[0] = 'INBOX'
    const key = `/${segments.join('/')}`
    const known = this.known.get(key)
    if (known !== undefined) return known
    // Only the folder itself: the server makes whatever parents its layout needs (a Maildir++ parent is no folder).
    const mailbox = segments.join(this.delimiter)
    await this.guard(() => this.client.mailboxCreate(mailbox))
    this.known.set(key, mailbox)
    return mailbox
  }

  /** The mailbox of a catalog path when the account has that folder now (nothing is created). */
  existingFolder(path: string): string | undefined {
    const segments = path.split('/').filter(Boolean)
    if (segments[0]?.toLowerCase() === 'inbox') segments[0] = 'INBOX'
    return this.known.get(`/${segments.join('/')}`)
  }

  /**
   * Whether the folder holds the message, not yet matched by another message of this restore; a match is counted
   * as used. A restore that must not duplicate a message kept elsewhere (doUndelete) asks several folders.
   */
  async holds(mailbox: string, message: RestoreMessage): Promise<boolean> {
    const index = await this.indexOf(mailbox)
    const [counts, key] = message.messageId
      ? [index.byMessageId, `${message.messageId} ${message.bytes.length}`]
      : [index.digests, message.digest]
    const present = counts.get(key) ?? 0
    if (present === 0) return false
    counts.set(key, present - 1)
    return true
  }

  /** Appends a message unless the folder already has it; true when appended. */
  async append(mailbox: string, message: RestoreMessage): Promise<boolean> {
    const [appended] = await this.appendMany(mailbox, [message])
    return appended
  }

  /**
   * Appends the messages the folder does not already have, in order; for each, true when appended. Where the server
   * has MULTIAPPEND they go a batch per command (bounded in bytes and count), else one APPEND each. The check against
   * what the folder holds comes first, as for append(), so a batch never carries a message that is already there.
   */
  async appendMany(mailbox: string, messages: readonly RestoreMessage[]): Promise<boolean[]> {
    const index = await this.indexOf(mailbox)
    const appended = messages.map(message => {
      const [counts, key] = message.messageId
        ? [index.byMessageId, `${message.messageId} ${message.bytes.length}`]
        : [index.digests, message.digest]
      const present = counts.get(key) ?? 0
      if (present === 0) return true
      counts.set(key, present - 1)
      return false
    })
    const toSend = messages.filter((_, i) => appended[i]).map(message => ({
      ...message, flags: message.flags.filter(flag => flag.toLowerCase() !== String.raw`\recent`),
    }))
    if (canMultiAppend(this.client, mailbox)) {
      for (const batch of batches(toSend)) await this.guard(() => multiAppend(this.client, mailbox, batch))
    } else {
      for (const message of toSend) await this.guard(() => this.client.append(mailbox, message.bytes, message.flags as string[], message.internalDate ?? undefined))
    }

    return appended
  }

  async close(): Promise<void> {
    await closeAdminConnection(this.client)
  }

  private async indexOf(mailbox: string): Promise<FolderIndex> {
    const cached = this.indexes.get(mailbox)
    if (cached) return cached
    const index: FolderIndex = {byMessageId: new Map(), digests: new Map()}
    await this.guard(async () => {
      const lock = await this.client.getMailboxLock(mailbox, {readOnly: true})
      try {
        if ((this.client.mailbox as MailboxObject).exists === 0) return
        const withoutId: number[] = []
        for await (const message of this.client.fetch('1:*', {uid: true, size: true, headers: ['message-id']}, {uid: true})) {
          const {messageId} = parseHeaders(message.headers)
          if (messageId) count(index.byMessageId, `${messageId} ${message.size ?? 0}`)
          else withoutId.push(message.uid)
        }

        if (withoutId.length > 0) {
          for await (const message of this.client.fetch(withoutId.join(','), {uid: true, source: true}, {uid: true})) {
            if (message.source) count(index.digests, createHash('sha256').update(message.source).digest('hex'))
          }
        }
      } finally {
        lock.release()
      }
    })
    this.indexes.set(mailbox, index)
    return index
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    return guardImap({account: this.account, settings: this.settings, signal: this.signal}, work)
  }
}

/** A MULTIAPPEND carries at most this much content, and this many messages: a bounded command, and progress. */
export const BATCH_BYTES = 8 * 1024 * 1024
export const BATCH_MESSAGES = 100

function * batches(messages: readonly RestoreMessage[]): Generator<RestoreMessage[]> {
  let batch: RestoreMessage[] = []
  let bytes = 0
  for (const message of messages) {
    if (batch.length > 0 && (bytes + message.bytes.length > BATCH_BYTES || batch.length >= BATCH_MESSAGES)) {
      yield batch
      batch = []
      bytes = 0
    }

    batch.push(message)
    bytes += message.bytes.length
  }

  if (batch.length > 0) yield batch
}

function count(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}
