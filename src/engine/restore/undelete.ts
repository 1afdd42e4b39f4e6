import type {OperationContext} from '../operations/run-operation.js'
import type {RestoreMessage} from './imap-restore-target.js'

import {imapSettings} from '../appserver/imap/imap-settings.js'
import {serverConfig} from '../config/config-store.js'
import {throwIfAborted, UsageError, UserError} from '../errors.js'
import {findAccount} from '../history/account-lookup.js'
import {FolderHistory} from '../history/folder-history.js'
import {isoTime} from '../history/history-time.js'
import {appendCounted, type AppendCounts} from './append-counts.js'
import {ContentSource} from './content-source.js'
import {type DeletedMessage, deletedMessages, type DeletionWindow} from './deleted-messages.js'
import {folderOrRefusal, FolderRefused} from './folder-refused.js'
import {BATCH_BYTES, BATCH_MESSAGES, ImapRestoreTarget} from './imap-restore-target.js'
import {earlierLives} from './later-lives.js'
import {QuotaExceeded} from './quota-exceeded.js'
import {restoreMessageOf} from './restore-message.js'
import {
  byFolderPath, newTally, recordFolder, recordUnrestored, type RestoreTally, stoppedByQuota,
} from './restore-tally.js'
import {announceRenamed} from './separator-in-name.js'
import {checkSource} from './source-check.js'
import {specialUsesOf} from './special-use-place.js'
import {survivingCopies} from './surviving-copies.js'

export interface UndeleteRequest {
  account: string
  window: DeletionWindow
  /** Into each message's original folder (the default, as in Carbonio), else under an "Undeleted <day>" folder. */
  targetOriginalFolder?: boolean
  /** The moment the separate folder is named after (now by default; tests fix it). */
  now?: number
}

export interface UndeleteReport extends Record<string, unknown>, RestoreTally {
  account: string
  /** The window as given: ISO times, or first / last. */
  start: string
  end: string
  targetOriginalFolder: boolean
  /** The folder that holds what came back when not into the original folders, else null. */
  undeletedFolder: null | string
  /** Messages deleted in the window. */
  deleted: number
}

/** Top-level folders that earlier doUndelete runs with target_original_folder false made. */
export const UNDELETED_PREFIX = 'Undeleted '

/**
 * "/Undeleted 2026-11-26": one folder per day, like Carbonio's undelete_DD_MM_YY tag. The day is the server's local
 * one, as the dates the administrator types are: the UTC day named the folder after yesterday (or tomorrow)
 * for hours of each day away from UTC.
 */
export function undeletedFolderName(now: number): string {
  const date = new Date(now)
  return `/${UNDELETED_PREFIX}${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`
}

const two = (n: number) => String(n).padStart(2, '0')

/** A window whose start is after its end is a mistyped command: refused before any operation is created for it. */
export function checkDeletionWindow({from, to}: DeletionWindow): void {
  if (from !== null && to !== null && from > to) {
    throw new UsageError(`the start ${isoTime(from)} is after the end ${isoTime(to)}: give the earlier date first`)
  }
}

/**
 * doUndelete: the messages of an account deleted in a window (by the user, an expunge, an emptied or deleted folder)
 * come back into the live account on the AppServer, with their exact bytes, flags, keywords and internal date (less
 * \Deleted, which would hide them again), into their original folder (created again when it is gone) or under one
 * "Undeleted <day>" folder keeping the folder structure. A message the mailbox still (or again) has, in its original
 * folder or where an earlier undelete put it, is skipped, so a second run adds nothing.
 */
export async function undelete(context: OperationContext, request: UndeleteRequest): Promise<UndeleteReport> {
  const {catalog, progress, server, signal} = context
  const {from, to} = request.window
  checkDeletionWindow(request.window)

  let account = await findAccount(catalog, request.account)
  const settings = imapSettings(await serverConfig(catalog, server))
  const check = await checkSource(context, account)
  if (check.scanned) account = await findAccount(catalog, request.account)
  if (account.deletedAt !== null) {
    throw new UserError(`account ${account.name} was deleted at ${isoTime(account.deletedAt)}: restore it with doRestoreOnNewAccount instead`)
  }

  const folders = await FolderHistory.load(catalog.db, account.key)
  const messages = await deletedMessages(catalog, account, request.window, folders)
  const targetOriginalFolder = request.targetOriginalFolder ?? true
  const undeletedFolder = targetOriginalFolder ? null : undeletedFolderName(request.now ?? Date.now())
  const report: UndeleteReport = {
    account: account.name,
    start: from === null ? 'first' : isoTime(from),
    end: to === null ? 'last' : isoTime(to),
    targetOriginalFolder,
    undeletedFolder,
    deleted: messages.reduce((sum, message) => sum + message.deletions, 0),
    ...newTally(check),
  }
  progress({kind: 'step', account: account.name, message: `${report.deleted} message(s) deleted from ${report.start} to ${report.end}`})
  if (messages.length === 0) return report

  const target = await ImapRestoreTarget.open(settings, account.name, signal)
  const content = new ContentSource(catalog, {account: account.name, settings, signal})
  try {
    // From the folders under them: a root with no messages of its own may be no selectable folder on the server.
    const earlierRoots = [...new Set((await target.folders())
    .map(folder => folder.path.split('/')[1])
    .filter(root => root.startsWith(UNDELETED_PREFIX))
    .map(root => `/${root}`))]
    const run: FolderRun = {
      catalog, folders, accountKey: account.key, account: account.name, content, target, report, progress, signal, earlierLives: earlierLives(messages),
    }
    for (const [path, group] of await byFolderPath(messages)) {
      throwIfAborted(signal)
      const destination = undeletedFolder === null ? path : `${undeletedFolder}${path}`
      // Back into their original folder as the account restores place it: mail deleted from Sent before the account
      // moved to a server whose \Sent is Gesendet goes into Gesendet, not into a new plain "Sent".
      const specialUseOf = undeletedFolder === null ? specialUsesOf(folders.foldersAt(group[0].deletedAt - 1)) : undefined
      // Where the mailbox may hold these messages now: their original folder and what earlier undeletes made.
      const kept = [target.existingFolder(path, specialUseOf), ...earlierRoots.map(root => target.existingFolder(`${root}${path}`))]
      .filter(mailbox => mailbox !== undefined)
      await undeleteFolder(run, {
        path, destination, kept, specialUseOf,
      }, group)
    }

    return report
  } finally {
    await content.close()
    await target.close()
  }
}

interface FolderRun {
  catalog: OperationContext['catalog']
  folders: FolderHistory
  accountKey: number
  account: string
  content: ContentSource
  target: ImapRestoreTarget
  report: UndeleteReport
  progress: OperationContext['progress']
  signal: AbortSignal
  /** Messages that came back later as another item deleted in the window too: that one comes back instead. */
  earlierLives: Set<string>
}

/** The messages of one original folder: each read, skipped when the mailbox keeps it, else appended. */
interface UndeletedFolder {
  path: string
  destination: string
  /** Mailboxes that may hold the folder's messages now. */
  kept: string[]
  specialUseOf?: (key: string) => null | string | undefined
}

async function undeleteFolder(run: FolderRun, folder: UndeletedFolder, group: DeletedMessage[]): Promise<void> {
  const {content, progress, report, signal, target} = run
  let mailbox: FolderRefused | string | undefined
  const counts: AppendCounts = {restored: 0, skipped: 0, unrestored: []}
  const setAside = new Set<string>()
  const survivors = await survivorsOf(run, folder, group)
  let pending: Array<{item: string; message: RestoreMessage}> = []
  let pendingBytes = 0
  const listRefused = () => {
    for (const {item, reason} of counts.unrestored.splice(0)) recordUnrestored(report, progress, run.account, {item, folderPath: folder.path, reason})
  }

  const countFolder = () => {
    if (typeof mailbox === 'string') report.folders++
    recordFolder(report, progress, run.account, {path: folder.destination, restored: counts.restored, skipped: counts.skipped})
  }

  const flush = async (into: string) => {
    try {
      await appendCounted(target, into, counts, pending)
    } catch (error) {
      if (!(error instanceof QuotaExceeded)) throw error
      // A full account ends the undelete with its counts as a finished one does, the folder it stopped in included,
      // and what is left of the deletions to undo.
      listRefused()
      countFolder()
      throw stoppedByQuota(error, report, report.deleted)
    }

    listRefused()
    pending = []
    pendingBytes = 0
  }

  for (const deleted of group) {
    throwIfAborted(signal)
    // Its earlier deletions in the window: lives that came back under its own id, as the later lives of other items
    // (earlierLives) are, so the counts are the same whether the capture took the message back for the item or not.
    counts.skipped += Math.max(0, deleted.deletions - 1)
    if (deleted.liveNow || run.earlierLives.has(deleted.id)) {
      counts.skipped++
      continue
    }

    const read = await content.read({accountKey: run.accountKey, item: deleted.id, state: deleted.state})
    if (!read.ok) {
      recordUnrestored(report, progress, run.account, {item: deleted.id, folderPath: folder.path, reason: read.reason})
      continue
    }

    const message = undeletedMessage(restoreMessageOf(deleted.state, read.bytes))
    const original = target.existingFolder(folder.path, folder.specialUseOf)
    if (original !== undefined && !setAside.has(message.digest)) {
      setAside.add(message.digest)
      await target.setAside(original, message, survivors.get(message.digest) ?? 0)
    }

    if (await heldByAny(target, folder.kept, message)) {
      counts.skipped++
      continue
    }

    // Created (again) only when something goes into it.
    if (mailbox === undefined) {
      mailbox = await folderOrRefusal(target, folder.destination, folder.specialUseOf)
      if (typeof mailbox === 'string') announceRenamed(report, progress, run.account, target.renamingOf(folder.destination, folder.specialUseOf))
    }

    if (mailbox instanceof FolderRefused) {
      // That folder only: its messages are listed with the server's reason, the other folders are undeleted.
      recordUnrestored(report, progress, run.account, {item: deleted.id, folderPath: folder.path, reason: mailbox.message})
      continue
    }

    // Appended in batches as the account restores do (one MULTIAPPEND per batch where the server has it): one
    // APPEND round trip per message made a wide window take minutes. Bounded like theirs in count and bytes.
    pending.push({item: deleted.id, message})
    pendingBytes += message.bytes.length
    if (pending.length >= BATCH_MESSAGES || pendingBytes >= BATCH_BYTES) await flush(mailbox)
  }

  if (typeof mailbox === 'string') await flush(mailbox)
  countFolder()
}

/**
 * Per content, the copies that the original folder kept from before the first of the group's copies was deleted:
 * other messages, set aside so that only what is left in the folder counts as these messages being there.
 */
async function survivorsOf(run: FolderRun, {path, specialUseOf}: UndeletedFolder, group: DeletedMessage[]): Promise<Map<string, number>> {
  if (run.target.existingFolder(path, specialUseOf) === undefined) return new Map()
  const seenBefore = new Map<string, number>()
  for (const {deletedAt, liveNow, state} of group) {
    if (liveNow || state.blobDigest === null) continue
    seenBefore.set(state.blobDigest, Math.min(seenBefore.get(state.blobDigest) ?? deletedAt, deletedAt))
  }

  return survivingCopies(run.catalog, run.accountKey, run.folders, {path, seenBefore})
}

/** \Deleted is what a client set just before expunging: kept, it would make the next expunge delete it again. */
function undeletedMessage(message: RestoreMessage): RestoreMessage {
  return {...message, flags: message.flags.filter(flag => flag.toLowerCase() !== String.raw`\deleted`)}
}

async function heldByAny(target: ImapRestoreTarget, mailboxes: string[], message: RestoreMessage): Promise<boolean> {
  for (const mailbox of new Set(mailboxes)) {
    if (await target.holds(mailbox, message)) return true
  }

  return false
}
