import type {ImapFlow, MailboxObject} from 'imapflow'

import type {ImapSettings} from '../appserver/imap/imap-settings.js'

import {closeAdminConnection, connectAsAdmin, guardImap} from '../appserver/imap/admin-connection.js'
import {fetchAnswers} from '../appserver/imap/fetch-answers.js'
import {unreadableInbox} from '../appserver/imap/imap-errors.js'
import {folderPathOf} from '../appserver/imap/imap-identity.js'
import {parseHeaders} from '../appserver/imap/message-headers.js'
import {isOwnMailbox} from '../appserver/imap/own-mailboxes.js'
import {sha256} from '../blobstore/blob-store.js'
import {inboxKey, isInboxPath} from '../folder-path.js'
import {candidateKey, FolderHoldings, type Likeness} from './folder-holdings.js'
import {FolderRefused} from './folder-refused.js'
import {likenessDigest, mayBeNormalised} from './imap-form.js'
import {appendOrRefusal, MessageRefused} from './message-refused.js'
import {canMultiAppend, multiAppend} from './multi-append.js'
import {QuotaExceeded} from './quota-exceeded.js'
import {type RenamedFolder, renamingOf} from './separator-in-name.js'
import {placeOnDestination} from './special-use-place.js'

/** A message to put into a mailbox: its exact bytes, flags and keywords, and INTERNALDATE. */
export interface RestoreMessage {
  bytes: Buffer
  digest: string
  flags: readonly string[]
  internalDate: Date | null
  messageId: null | string
}

export interface TargetFolder {
  mailbox: string
  path: string
  messages: number
}

/**
 * The writer a restore uses on the AppServer: one IMAP connection to the destination account, opened with the admin
 * credential like the SmartScan's sessions, that creates folders by catalog path and APPENDs messages with their
 * exact bytes, flags, keywords and internal date. It is idempotent per folder: a message whose content (digest) is
 * already in the folder is skipped, so running a restore twice duplicates nothing, and a different message that only
 * shares its Message-ID and size never stands in for it (FolderHoldings).
 */
export class ImapRestoreTarget {
  private delimiter = '/'
  private readonly holdings = new Map<string, FolderHoldings>()
  private readonly likenesses = new WeakMap<RestoreMessage, Likeness | undefined>()
  private readonly known = new Map<string, string>()
  /** The destination's folder (its key: "/Gesendet") of each special use (lower case: \\sent), as its LIST says. */
  private readonly specialUses = new Map<string, string>()

  private constructor(
    private readonly client: ImapFlow,
    private readonly settings: ImapSettings,
    readonly account: string,
    private readonly signal?: AbortSignal,
  ) {}

  static async open(settings: ImapSettings, account: string, signal?: AbortSignal): Promise<ImapRestoreTarget> {
    const client = await connectAsAdmin(settings, account, {signal})
    const target = new ImapRestoreTarget(client, settings, account, signal)
    try {
      await target.folders()
    } catch (error) {
      // Not left open: a connection nobody closes keeps the CLI's process alive after the failure.
      await target.close()
      throw error
    }

    return target
  }

  /** The destination's selectable mailboxes with their message counts. */
  async folders(): Promise<TargetFolder[]> {
    return this.guard(async () => {
      const entries = await this.client.list({statusQuery: {messages: true}})
      const folders: TargetFolder[] = []
      let inboxRead = false
      for (const entry of entries) {
        if (entry.delimiter) this.delimiter = entry.delimiter
        if (entry.flags.has(String.raw`\Noselect`) || entry.flags.has(String.raw`\NonExistent`)) continue
        if (!isOwnMailbox(entry.path, this.client.namespaces)) continue
        const path = folderPathOf(entry.path, entry.delimiter)
        this.known.set(inboxKey(path), entry.path)
        if (entry.specialUse && !this.specialUses.has(entry.specialUse.toLowerCase())) this.specialUses.set(entry.specialUse.toLowerCase(), inboxKey(path))
        const status = entry.status as (undefined | {error?: unknown; messages?: number})
        if (isInboxPath(path) && status?.messages !== undefined) inboxRead = true
        folders.push({mailbox: entry.path, path, messages: status?.messages ?? 0})
      }

      if (!inboxRead) await this.checkInbox(folders)
      return folders
    })
  }

  /**
   * An INBOX that the listing did not show with its count, asked for itself. The server saying it does not exist
   * means the admin user does not see the account's mail (Dovecot's ACL plugin without acl_user = %u): the account
   * would pass for empty, and the restore fail on its first APPEND with the server's bare "Mailbox doesn't exist".
   */
  private async checkInbox(folders: TargetFolder[]): Promise<void> {
    // EXAMINE, not STATUS: imapflow answers a refused STATUS with false, whatever the reason.
    let messages: number
    try {
      messages = (await this.client.mailboxOpen('INBOX', {readOnly: true})).exists
      await this.client.mailboxClose()
    } catch (error) {
      if ((error as {responseStatus?: string}).responseStatus !== 'NO') throw error
      throw unreadableInbox(this.settings, this.account, 'nothing is restored into it')
    }

    const inbox = folders.find(folder => isInboxPath(folder.path))
    if (inbox) inbox.messages = messages
  }

  /**
   * The mailbox for a catalog path ("/Archive/2024"), created with its parents when missing. A name the server will
   * not create throws FolderRefused (naming the folder), which a restore may take as that folder's failure only.
   * A folder of a special use (\\Sent, \\Drafts, \\Trash, \\Junk, \\Archive), and the folders under it, go into
   * (under) the destination's folder of that use when it has one, even beside a plain folder of the same name
   * (`specialUseOf`, by the backup's folder keys: placeOnDestination): a server in another language (Gesendet,
   * Papierkorb) would otherwise get a plain "Sent" beside its own, and mail clients would not show the restored sent
   * mail as sent.
   */
  async ensureFolder(path: string, specialUseOf?: (key: string) => null | string | undefined): Promise<string> {
    if (path.split('/').every(segment => segment === '')) throw new Error(`no folder path: ${path}`)
    const key = this.placed(path, specialUseOf)
    const known = this.known.get(key)
    if (known !== undefined) return known
    // Only the folder itself: the server makes whatever parents its layout needs (a Maildir++ parent is no folder).
    const mailbox = key.split('/').filter(Boolean).join(this.delimiter)
    // A backup made before SmartScan kept to the account's own mailboxes may hold another user's shared folder
    // (/shared/bob@example.com/Projects) or a public one: writing there would put back, in someone else's folder,
    // what its owner deleted. Refused as a folder the server would not create.
    if (!isOwnMailbox(mailbox, this.client.namespaces)) {
      throw new FolderRefused(key, `${key} is not a folder of ${this.account} but another user's or a public one on the AppServer at ${this.settings.url}: nothing is restored into it`)
    }

    await this.guard(async () => {
      try {
        await this.client.mailboxCreate(mailbox)
      } catch (error) {
        const failure = error as {responseStatus?: string; responseText?: string}
        if (failure.responseStatus !== 'NO') throw error
        const why = (failure.responseText ?? 'refused').replaceAll(/\s+/g, ' ').trim()
        throw new FolderRefused(key, `the AppServer at ${this.settings.url} would not create the folder ${key} in ${this.account}: ${why}`)
      }
    })
    this.known.set(key, mailbox)
    return mailbox
  }

  /**
   * The mailbox of a catalog path when the account has that folder now (nothing is created), placed as ensureFolder()
   * places it with the same `specialUseOf`.
   */
  existingFolder(path: string, specialUseOf?: (key: string) => null | string | undefined): string | undefined {
    return this.known.get(this.placed(path, specialUseOf))
  }

  /** How the folder of a catalog path is renamed here for the destination's separator in its name, if it is. */
  renamingOf(path: string, specialUseOf?: (key: string) => null | string | undefined): RenamedFolder | undefined {
    return renamingOf(path, this.placed(path, specialUseOf), this.delimiter)
  }

  /** The destination's key for a catalog path (placeOnDestination). */
  private placed(path: string, specialUseOf?: (key: string) => null | string | undefined): string {
    return placeOnDestination(inboxKey(`/${path.split('/').filter(Boolean).join('/')}`), {
      delimiter: this.delimiter, has: known => this.known.has(known), ofSpecialUse: use => this.specialUses.get(use),
    }, specialUseOf ?? (() => null))
  }

  /**
   * Whether the folder holds the message, not yet matched by another message of this restore; a match is counted
   * as used. A restore that must not duplicate a message kept elsewhere (doUndelete) asks several folders.
   */
  async holds(mailbox: string, message: RestoreMessage): Promise<boolean> {
    const holdings = await this.holdingsOf(mailbox, [message])
    return holdings.take(keyOf(message), message.digest, this.likenessOf(holdings, message))
  }

  /**
   * Marks up to `count` messages of the folder with this content as used, as holds() would: other copies the
   * account keeps (survivingCopies), which must not stand for the message being brought back.
   */
  async setAside(mailbox: string, message: RestoreMessage, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (!await this.holds(mailbox, message)) return
    }
  }

  /** Appends a message unless the folder already has it; true when appended. Throws the server's refusal. */
  async append(mailbox: string, message: RestoreMessage): Promise<boolean> {
    const [appended] = await this.appendMany(mailbox, [message])
    if (appended instanceof MessageRefused) throw appended
    return appended
  }

  /**
   * Appends the messages the folder does not already have, in order; for each, true when appended, false when the
   * folder had it, or the server's refusal of that one message (a size limit). Where the server has MULTIAPPEND they
   * go a batch per command (bounded in bytes and count), else one APPEND each. The check against what the folder
   * holds comes first, as for append(), so a batch never carries a message that is already there. A full account
   * throws QuotaExceeded (no further message would go in), whose `settled` says what became of the messages before.
   */
  async appendMany(mailbox: string, messages: readonly RestoreMessage[]): Promise<Array<boolean | MessageRefused>> {
    const holdings = await this.holdingsOf(mailbox, messages)
    const outcomes: Array<boolean | MessageRefused> = messages.map(message => !holdings.take(keyOf(message), message.digest, this.likenessOf(holdings, message)))
    const toSend = messages.map((message, index) => ({
      index, message: {...message, flags: message.flags.filter(flag => flag.toLowerCase() !== String.raw`\recent`)},
    })).filter(({index}) => outcomes[index])
    // The messages the server has stored, for what a full account's stop leaves out of the counts (QuotaExceeded.settled).
    const stored = new Set<number>()
    try {
      await this.send(mailbox, toSend, outcomes, stored)
    } catch (error) {
      // What went in (or was already there, or refused) before the account was full is settled: the restore counts
      // it; the messages not stored are left for the same command to append once the quota is raised.
      if (error instanceof QuotaExceeded) error.settled = outcomes.map((outcome, index) => (outcome === true && !stored.has(index) ? undefined : outcome))
      throw error
    }

    return outcomes
  }

  async close(): Promise<void> {
    await closeAdminConnection(this.client)
  }

  /**
   * APPENDs the messages appendMany sends (a batch per command where the server has MULTIAPPEND, else one each),
   * noting in `stored` each index the server stored and in `outcomes` each refusal of one message.
   */
  private async send(
    mailbox: string,
    toSend: ReadonlyArray<{index: number; message: RestoreMessage}>,
    outcomes: Array<boolean | MessageRefused>,
    stored: Set<number>,
  ): Promise<void> {
    const where = (count: number) => ({
      account: this.account, mailbox, url: this.settings.url, count,
    })
    const one = async ({index, message}: {index: number; message: RestoreMessage}) => {
      try {
        await this.guard(() => appendOrRefusal(where(1), () => this.client.append(mailbox, message.bytes, message.flags as string[], message.internalDate ?? undefined)))
        stored.add(index)
      } catch (error) {
        if (!(error instanceof MessageRefused)) throw error
        outcomes[index] = error
      }
    }

    if (!(await canMultiAppend(this.client, mailbox))) {
      for (const sent of toSend) await one(sent)
      return
    }

    for (const batch of boundedChunks(toSend, ({message}) => message.bytes.length)) {
      try {
        await this.guard(() => appendOrRefusal(where(batch.length), () => multiAppend(this.client, mailbox, batch.map(({message}) => message))))
        for (const {index} of batch) stored.add(index)
      } catch (error) {
        if (!(error instanceof MessageRefused)) throw error
        // A refused MULTIAPPEND stored none of the batch (RFC 3502), and the server does not say which message it
        // would not take (one over its size limit): one APPEND each, so that only that one stays out.
        for (const sent of batch) await one(sent)
      }
    }
  }

  /** What the folder holds, with the digests known of every message that could be one of `messages`. */
  private async holdingsOf(mailbox: string, messages: readonly RestoreMessage[]): Promise<FolderHoldings> {
    const holdings = this.holdings.get(mailbox) ?? await this.readHoldings(mailbox)
    this.holdings.set(mailbox, holdings)
    const likenesses = messages.flatMap(message => this.likenessOf(holdings, message) ?? [])
    const unread = holdings.unread(messages.map(message => keyOf(message)), likenesses)
    if (unread.length > 0) {
      await this.guard(async () => {
        const lock = await this.client.getMailboxLock(mailbox, {readOnly: true})
        try {
          // In FETCHes of bounded size: the bodies are hashed and dropped one by one.
          for (const chunk of boundedChunks(unread, message => message.size)) {
            for await (const message of this.client.fetch(chunk.map(m => m.uid).join(','), {uid: true, source: true}, {uid: true})) {
              if (message.source) holdings.learn(message.uid, message.source)
            }
          }
        } finally {
          lock.release()
        }
      })
    }

    return holdings
  }

  /** The folder's messages by candidate key: Message-ID and size, or the digest of those without one (read whole). */
  private async readHoldings(mailbox: string): Promise<FolderHoldings> {
    const holdings = new FolderHoldings()
    await this.guard(async () => {
      const lock = await this.client.getMailboxLock(mailbox, {readOnly: true})
      try {
        if ((this.client.mailbox as MailboxObject).exists === 0) return
        const withoutId: number[] = []
        for (const message of await fetchAnswers(this.client, '1:*', {uid: true, size: true, headers: ['message-id']}, {uid: true})) {
          const {messageId} = parseHeaders(message.headers)
          if (messageId) holdings.add(message.uid, candidateKey(messageId, message.size!, null), message.size!, messageId)
          else withoutId.push(message.uid)
        }

        if (withoutId.length > 0) {
          for await (const message of this.client.fetch(withoutId.join(','), {uid: true, source: true}, {uid: true})) {
            if (!message.source) continue
            holdings.add(message.uid, candidateKey(null, message.source.length, sha256(message.source)), message.source.length, null, message.source)
          }
        }
      } finally {
        lock.release()
      }
    })
    return holdings
  }

  /**
   * What a message that the server may have rewritten on APPEND is also known by (imap-form.ts), when the folder has a
   * message of its Message-ID to compare it with; undefined for the others, which only their exact digest matches.
   */
  private likenessOf(holdings: FolderHoldings, message: RestoreMessage): Likeness | undefined {
    if (!holdings.hasMessageId(message.messageId)) return undefined
    if (!this.likenesses.has(message)) {
      this.likenesses.set(message, mayBeNormalised(message.bytes) ? {messageId: message.messageId, digest: likenessDigest(message.bytes)} : undefined)
    }

    return this.likenesses.get(message)
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    return guardImap({
      account: this.account, client: this.client, settings: this.settings, signal: this.signal,
    }, work)
  }
}

/** A MULTIAPPEND carries at most this much content, and this many messages: a bounded command, and progress. */
export const BATCH_BYTES = 8 * 1024 * 1024
export const BATCH_MESSAGES = 100

/**
 * Items in chunks of at most BATCH_BYTES (by sizeOf) and BATCH_MESSAGES, in order.
 * @yields each chunk
 */
export function * boundedChunks<T>(items: readonly T[], sizeOf: (item: T) => number): Generator<T[]> {
  let chunk: T[] = []
  let bytes = 0
  for (const item of items) {
    if (chunk.length > 0 && (bytes + sizeOf(item) > BATCH_BYTES || chunk.length >= BATCH_MESSAGES)) {
      yield chunk
      chunk = []
      bytes = 0
    }

    chunk.push(item)
    bytes += sizeOf(item)
  }

  if (chunk.length > 0) yield chunk
}

function keyOf(message: RestoreMessage): string {
  return candidateKey(message.messageId, message.bytes.length, message.digest)
}
