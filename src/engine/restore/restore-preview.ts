import type {Catalog} from '../catalog/catalog.js'
import type {ItemRevision} from '../history/item-revision.js'
import type {PointInTime} from '../point-in-time.js'

import {ImapError} from '../appserver/imap/imap-errors.js'
import {normalizeFlags} from '../appserver/imap/imap-identity.js'
import {ImapSession, type MessageMeta} from '../appserver/imap/imap-session.js'
import {imapSettings} from '../appserver/imap/imap-settings.js'
import {flagsWithTags} from '../appserver/imap/tag-keywords.js'
import {sha256} from '../blobstore/blob-store.js'
import {LARGE_CONTENT_BYTES} from '../blobstore/blob-stream-write.js'
import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {inboxKey} from '../folder-path.js'
import {certaintyOf} from '../history/account-certainty-view.js'
import {findAccount} from '../history/account-lookup.js'
import {describeHistoryTime} from '../history/history-time.js'
import {type AccountStateAt, stateAt} from '../history/state-at.js'
import {blobStoreFor} from '../scanner/realtime-scanner.js'
import {ContentSource} from './content-source.js'
import {candidateKey} from './folder-holdings.js'
import {likenessDigest} from './imap-form.js'
import {boundedChunks} from './imap-restore-target.js'
import {
  compareFolder, type DifferingMessage, type PreviewMessage, shownOf,
} from './preview-matching.js'
import {type PairableMessage, pairRewritten} from './preview-rewritten.js'
import {restoreTime} from './restore-on-new-account.js'
import {type RenamedFolder, renamingOf} from './separator-in-name.js'
import {placeOnDestination} from './special-use-place.js'

export interface RestorePreviewRequest {
  account: string
  point: PointInTime
  /** The live mailbox to compare with (default: the account itself). */
  destination?: string
}

export interface RestorePreview extends Record<string, unknown> {
  account: string
  destination: string
  pointInTime: string
  /** False when the AppServer would not open the destination: a restore would have to create it. */
  destinationExists: boolean
  /** Why the backup may not hold the account's last changes (an uncertain account), else null. */
  uncertain: null | string
  backup: {folders: number; messages: number; otherItems: number}
  live: {folders: number; messages: number}
  /** Folders and messages of the backup at T missing live: what a restore would add. */
  add: {folders: string[]; messages: PreviewMessage[]}
  /**
   * Messages missing live whose content is nowhere to read (blobless and gone from the AppServer, or lost from the
   * blob store): a restore lists them as not restored, with this reason.
   */
  cannotAdd: Array<PreviewMessage & {reason: string}>
  /** The same message with other flags or keywords live: a restore leaves it as it is. */
  differ: DifferingMessage[]
  /** Live folders and messages that were not there at T: a restore leaves them alone. */
  liveOnly: {folders: string[]; messages: PreviewMessage[]}
  unchanged: number
  /** Folders a restore would put under another name: theirs hold the destination's hierarchy separator. */
  renamedFolders: RenamedFolder[]
}

type Keyed = PairableMessage & PreviewMessage

/**
 * getRestorePreview: what doRestoreOnNewAccount at T would do to the live mailbox, without doing any of it. The
 * backup's state at T is compared folder by folder with the destination as it is now, read over IMAP with EXAMINE and
 * BODY.PEEK (nothing on the server changes, not even \Seen) and matched the way the restore target matches: by content
 * digest, reading only the live messages that share a Message-ID and size with a message of the backup (or have no
 * Message-ID). Nothing is written in the catalog either: an uncertain account is reported, not scanned.
 */
export async function previewRestore(catalog: Catalog, server: string, request: RestorePreviewRequest, signal?: AbortSignal): Promise<RestorePreview> {
  const at = restoreTime(request.point)
  const account = await findAccount(catalog, request.account, at)
  const settings = imapSettings(await serverConfig(catalog, server))
  const destination = (request.destination ?? account.name).toLowerCase()
  const state = await stateAt(catalog, account, at)
  if (!state.exists) throw new UserError(`${account.name} has no state to restore at ${describeHistoryTime(at)}: ${state.absence}`)
  const certainty = await certaintyOf(catalog.db, account.key)

  const backup = await readBackup(state)
  const live = await readLive(settings, destination, backup, signal)
  const blobs = await blobStoreFor(catalog, server)
  // A content the store cannot give (blobless, repaired away) is not worth a trip to the server for a preview.
  const readBlob = async (digest: string): Promise<Buffer | undefined> => {
    try {
      return await blobs.get(digest)
    } catch {
      return undefined
    }
  }

  // A message to add whose content the backup does not hold is read where the restore would read it (the AppServer,
  // for blobless mode): one gone there cannot be added, and the preview must not promise it.
  const contents = new ContentSource(catalog, {account: account.name, settings, signal: signal ?? new AbortController().signal})
  const unreadable = (message: PreviewMessage) => whyUnreadable(contents, account.key, backup.notStored, message)

  const preview: RestorePreview = {
    account: account.name,
    destination,
    pointInTime: describeHistoryTime(at),
    destinationExists: live !== null,
    uncertain: certainty.certain ? null : `${account.name} is uncertain (${certainty.reason}): ${certainty.advice}`,
    backup: {folders: backup.folders.size, messages: backup.count, otherItems: backup.otherItems},
    live: {folders: live?.folders.size ?? 0, messages: 0},
    add: {folders: [], messages: []},
    cannotAdd: [],
    differ: [],
    liveOnly: {folders: [], messages: []},
    unchanged: 0,
    renamedFolders: [],
  }
  const liveFolders = live?.folders ?? new Map<string, string>()
  // As the restore target does: a special-use folder missing at its path goes into the destination's of that use.
  const liveKeyOf = (key: string) => placeOnDestination(key, {
    delimiter: live?.delimiter, has: folder => liveFolders.has(folder), ofSpecialUse: use => live?.specialUses.get(use),
  }, folder => backup.specialUses.get(folder))
  for (const [key, folderPath] of [...backup.folders].sort(byPath)) {
    const renamed = renamingOf(folderPath, liveKeyOf(key), live?.delimiter)
    if (renamed) preview.renamedFolders.push(renamed)
  }

  try {
    const intoLive = byDestinationFolder(backup, liveKeyOf)
    for (const [liveKey, {messages: backupMessages, paths}] of intoLive) {
      if (!liveFolders.has(liveKey)) preview.add.folders.push(...paths)
      const liveMessages = live?.messages.get(liveKey) ?? []
      await pairRewritten(backupMessages, liveMessages, readBlob)
      const comparison = compareFolder(backupMessages, liveMessages)
      await splitAdditions(comparison.add, unreadable, preview)

      preview.differ.push(...comparison.differ)
      preview.liveOnly.messages.push(...comparison.liveOnly)
      preview.unchanged += comparison.same
    }

    for (const [key, folderPath] of [...liveFolders].sort(byPath)) {
      if (intoLive.has(key)) continue
      preview.liveOnly.folders.push(folderPath)
      preview.liveOnly.messages.push(...(live?.messages.get(key) ?? []).map(message => shownOf(message)))
    }

    preview.live.messages = [...(live?.messages.values() ?? [])].reduce((sum, list) => sum + list.length, 0)
  } finally {
    await contents.close()
  }

  return preview
}

/** The messages to add into what a restore adds and what it cannot, as it cannot read their content. */
async function splitAdditions(
  messages: readonly PreviewMessage[],
  unreadable: (message: PreviewMessage) => Promise<null | string>,
  preview: Pick<RestorePreview, 'add' | 'cannotAdd'>,
): Promise<void> {
  for (const message of messages) {
    const reason = await unreadable(message)
    if (reason === null) preview.add.messages.push(message)
    else preview.cannotAdd.push({...message, reason})
  }
}

/** Why a restore could not read a message's content (one the blob store does not hold), else null. */
async function whyUnreadable(
  contents: ContentSource,
  accountKey: number,
  notStored: ReadonlyMap<string, ItemRevision>,
  message: PreviewMessage,
): Promise<null | string> {
  const state = message.item === null ? undefined : notStored.get(message.item)
  if (state === undefined) return null
  const content = await contents.read({accountKey, item: message.item!, state})
  return content.ok ? null : content.reason
}

/**
 * The backup's folders (their paths and messages) by the destination's folder they go into. Several may share one
 * ("A.B" and "A_B" onto a server whose separator is ".", Sent and a plain Gesendet onto one whose \Sent is Gesendet):
 * compared one at a time, each counted the others' messages there as live-only, though the restore fills that folder
 * with all of them.
 */
function byDestinationFolder(backup: BackupMailbox, liveKeyOf: (key: string) => string): Map<string, {messages: Keyed[]; paths: string[]}> {
  const into = new Map<string, {messages: Keyed[]; paths: string[]}>()
  for (const [key, folderPath] of [...backup.folders].sort(byPath)) {
    const liveKey = liveKeyOf(key)
    const folder = into.get(liveKey) ?? {messages: [], paths: []}
    folder.paths.push(folderPath)
    folder.messages.push(...(backup.messages.get(key) ?? []))
    into.set(liveKey, folder)
  }

  return into
}

interface BackupMailbox {
  /** Folder key to the folder's path at T. */
  folders: Map<string, string>
  /** Folder key to the folder's special use at T (lower case: \\sent), for those that had one. */
  specialUses: Map<string, string>
  messages: Map<string, Keyed[]>
  /** The candidate keys (Message-ID and size) of the messages known by digest: live messages to read to compare. */
  candidates: Set<string>
  /**
   * The Message-IDs of those messages: a live message of one of them with another size is read too, in case it is a
   * copy the server rewrote on APPEND (preview-rewritten.ts).
   */
  messageIds: Set<string>
  /** Their digests: a live message read that matches none of them may be a rewritten copy of one. */
  digests: Set<string>
  count: number
  otherItems: number
  /** The states of messages whose content is not in the blob store (blobless mode), by item id. */
  notStored: Map<string, ItemRevision>
}

/** The account's mail folders and messages at T, keyed as the live side is. */
async function readBackup(state: AccountStateAt): Promise<BackupMailbox> {
  const backup: BackupMailbox = {
    folders: new Map(), specialUses: new Map(), messages: new Map(), candidates: new Set(), messageIds: new Set(), digests: new Set(), count: 0, otherItems: 0, notStored: new Map(),
  }
  for (const folder of state.folders) {
    if (folder.view !== null && folder.view !== 'message') continue
    backup.folders.set(inboxKey(folder.path), folder.path)
    const {specialUse} = folder.metadata
    if (typeof specialUse === 'string') backup.specialUses.set(inboxKey(folder.path), specialUse.toLowerCase())
  }

  for await (const item of state.items()) {
    if (item.type !== 'message') {
      backup.otherItems++
      continue
    }

    const {messageId, subject} = item.metadata as {messageId?: unknown; subject?: unknown}
    const id = typeof messageId === 'string' && messageId !== '' ? messageId : null
    const size = item.size ?? 0
    const folder = inboxKey(item.folderPath)
    if (!backup.folders.has(folder)) backup.folders.set(folder, item.folderPath)
    push(backup.messages, folder, {
      folderPath: item.folderPath,
      item: item.id,
      uid: null,
      messageId: id,
      subject: typeof subject === 'string' ? subject : null,
      size,
      flags: normalizeFlags(flagsWithTags(item.flags, item.tags)),
      // By content, as the restore target recognises a message; by Message-ID and size when the backup never knew it.
      key: item.blobDigest ? candidateKey(null, size, item.blobDigest) : candidateKey(id, size, null),
      digest: item.blobDigest,
    })
    if (item.blobDigest) {
      backup.candidates.add(candidateKey(id, size, item.blobDigest))
      if (id) backup.messageIds.add(id)
      backup.digests.add(item.blobDigest)
    }

    if (!item.contentStored) backup.notStored.set(item.id, item)
    backup.count++
  }

  return backup
}

interface LiveMailbox {
  /** Folder key to the folder's path as the server names it. */
  folders: Map<string, string>
  /** Special use (lower case) to the key of the destination's folder of that use. */
  specialUses: Map<string, string>
  messages: Map<string, Keyed[]>
  /** The server's hierarchy separator. */
  delimiter: null | string
}

/**
 * The destination as it is now, read-only; null when the AppServer would not open it (it does not exist). A message
 * is keyed by its content digest when it may be one of the backup's (its Message-ID and size are among `candidates`,
 * or it has no Message-ID), else by Message-ID and size: only those bodies are read, a chunk at a time.
 */
async function readLive(
  settings: ReturnType<typeof imapSettings>,
  destination: string,
  {candidates, digests: backupDigests, messageIds}: Pick<BackupMailbox, 'candidates' | 'digests' | 'messageIds'>,
  signal?: AbortSignal,
): Promise<LiveMailbox | null> {
  let session: ImapSession
  try {
    session = await ImapSession.open(settings, destination, {signal})
  } catch (error) {
    if (error instanceof ImapError && error.scope === 'account') return null
    throw error
  }

  try {
    const live: LiveMailbox = {
      folders: new Map(), specialUses: new Map(), messages: new Map(), delimiter: null,
    }
    for (const folder of await session.folders()) {
      live.delimiter ??= folder.delimiter
      if (!folder.selectable) continue
      const key = inboxKey(folder.path)
      live.folders.set(key, folder.path)
      if (folder.specialUse && !live.specialUses.has(folder.specialUse.toLowerCase())) live.specialUses.set(folder.specialUse.toLowerCase(), key)
      if ((folder.status?.messages ?? 0) === 0) continue
      const read = await session.readFolder(folder.mailbox, null)
      const toRead = read.messages.filter(m => !m.headers.messageId || candidates.has(candidateKey(m.headers.messageId, m.size, null)) || messageIds.has(m.headers.messageId))
      const digests = await digestsOf(session, folder.mailbox, toRead, backupDigests)

      for (const message of read.messages) {
        const {digest, likeness} = digests.get(message.uid) ?? {}
        push(live.messages, key, {
          folderPath: folder.path,
          item: null,
          uid: message.uid,
          messageId: message.headers.messageId,
          subject: message.headers.subject ?? null,
          size: message.size,
          flags: message.flags,
          key: digest ? candidateKey(null, message.size, digest) : candidateKey(message.headers.messageId, message.size, null),
          likeness,
        })
      }
    }

    return live
  } finally {
    await session.close()
  }
}

/**
 * The content digests of some live messages, and for those that are none of the backup's the digest of what a
 * server's rewriting leaves alike (imap-form.ts): they may be rewritten copies. Read in FETCHes of bounded size, a
 * large one hashed as it arrives (never one a server rewrote, in practice); one expunged meanwhile is absent (or,
 * large, shorter than its size: left out).
 */
async function digestsOf(
  session: ImapSession,
  mailbox: string,
  messages: readonly MessageMeta[],
  backupDigests: ReadonlySet<string>,
): Promise<Map<number, {digest: string; likeness?: string}>> {
  const digests = new Map<number, {digest: string; likeness?: string}>()
  for (const chunk of boundedChunks(messages.filter(m => m.size < LARGE_CONTENT_BYTES), m => m.size)) {
    for (const [uid, body] of await session.bodies(mailbox, chunk.map(m => m.uid))) {
      const digest = sha256(body)
      digests.set(uid, {digest, likeness: backupDigests.has(digest) ? undefined : likenessDigest(body)})
    }
  }

  for (const large of messages.filter(m => m.size >= LARGE_CONTENT_BYTES)) {
    const hashed = await session.digestOf(mailbox, large)
    if (hashed) digests.set(large.uid, {digest: hashed.digest})
  }

  return digests
}

/** The Inbox in any case is one folder (the restore target makes "/Inbox" the server's INBOX). */
function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key) ?? []
  list.push(value)
  map.set(key, list)
}

function byPath(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0)
}
