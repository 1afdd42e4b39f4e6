import {readdir, readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import type {ExportedAccountDirectory} from '../export/export-tree.js'
import type {ProgressSink} from '../progress.js'
import type {MessageRefused} from './message-refused.js'

import {parseHeaders} from '../appserver/imap/message-headers.js'
import {sha256} from '../blobstore/blob-store.js'
import {throwIfAborted, UserError} from '../errors.js'
import {FOLDERS_FILE, MAILDIR_DIR} from '../export/account-export.js'
import {type ExportedMessage, readExportedItems} from '../export/exported-items.js'
import {folderPathOfMaildir, parseMaildirFileName} from '../export/maildir-reading.js'
import {inboxKey} from '../folder-path.js'
import {type AppendCounts, countAppended} from './append-counts.js'
import {FolderRefused} from './folder-refused.js'
import {
  BATCH_BYTES, BATCH_MESSAGES, type ImapRestoreTarget, type RestoreMessage,
} from './imap-restore-target.js'
import {QuotaExceeded} from './quota-exceeded.js'
import {announceRenamed, type RenamedFolder} from './separator-in-name.js'

export interface ExternalUnrestored {
  item: string
  type: string
  folderPath: string
  reason: string
}

export interface ExternalAccountReport {
  account: string
  directory: string
  /** The account did not exist on the AppServer: backupProvisioningCommand created it. */
  created: boolean
  folders: number
  restored: number
  /** Already in the destination folder (a previous import, or the same mail delivered there): not appended again. */
  skipped: number
  unrestored: number
  /** Of `unrestored`: messages whose content is not in the export; the others are items IMAP cannot carry. */
  unrestoredMessages: number
  /** The first MAX_LISTED unrestored items, with their reason. */
  unrestoredItems: ExternalUnrestored[]
  /** Folders imported under another name: theirs held the destination's hierarchy separator. */
  renamedFolders: RenamedFolder[]
  /** Messages of the export not tried: the account was full (QuotaExceeded); importing again appends them. */
  left: number
  /** Why the account could not be imported at all (it could not be created or opened), else null. */
  error: null | string
}

/** Enough to see what went wrong and why, without making an operation's result as big as the export. */
export const MAX_LISTED = 1000

interface MaildirFolder {
  path: string
  directory: string
  /** Its special use (\\Sent...) as folders.json gives it: the destination's folder of that use receives it. */
  specialUse: null | string
}

/**
 * Imports one exported account into its (open) restore target: each Maildir folder of the export becomes a folder
 * with its messages appended with the exact bytes of their files, the flags of their file names, and the keywords
 * and internal date items.ndjson recorded (else its firstSeen, the item's creation; the file's mtime for mail it
 * does not list).
 * Messages the folder already holds are skipped by the target, so a second import adds nothing. Items of other
 * types, and messages whose content is not in the export, are reported as unrestored with the reason.
 */
export async function importExportedAccount(
  target: ImapRestoreTarget,
  exported: ExportedAccountDirectory,
  options: {progress: ProgressSink; report: ExternalAccountReport; signal: AbortSignal; onCounts: () => void},
): Promise<void> {
  const {progress, report, signal} = options
  const unrestored = (item: ExternalUnrestored) => {
    report.unrestored++
    if (item.type === 'message') report.unrestoredMessages++
    if (report.unrestoredItems.length < MAX_LISTED) report.unrestoredItems.push(item)
  }

  const messages = await readExportedItems(exported.directory, other => {
    const reason = `a ${other.type} cannot be restored over IMAP, which carries mail only`
    unrestored({
      item: other.id, type: other.type, folderPath: other.folderPath, reason,
    })
  })
  const seen = new Set<string>()
  const folders = await maildirFolders(exported.directory)
  // A folder under an exported special-use folder follows it into the destination's folder of that use.
  const specialUses = new Map(folders.map(folder => [inboxKey(folder.path), folder.specialUse]))
  for (const [index, folder] of folders.entries()) {
    throwIfAborted(signal)
    let mailbox: string
    try {
      mailbox = await target.ensureFolder(folder.path, key => specialUses.get(key))
    } catch (error) {
      if (!(error instanceof FolderRefused)) throw error
      // Only this folder cannot be had: its messages are listed with the reason, the other folders are imported.
      progress({kind: 'warning', account: exported.account, message: error.message})
      for (const item of await folderItems(folder.directory)) {
        seen.add(item)
        unrestored({
          item, type: 'message', folderPath: folder.path, reason: error.message,
        })
      }

      options.onCounts()
      continue
    }

    report.folders++
    announceRenamed(report, progress, exported.account, target.renamingOf(folder.path, key => specialUses.get(key)))
    const files = await messageFiles(folder.directory)
    const counts: AppendCounts = {restored: 0, skipped: 0, unrestored: []}
    let batch: PendingFile[] = []
    let batchBytes = 0
    // One appendMany per batch, as the account restores do (a MULTIAPPEND where the server has it, and one look at
    // what the folder holds for the lot): a message at a time made an import three times slower than a restore.
    const flush = async () => {
      const sent = batch
      batch = []
      batchBytes = 0
      if (sent.length === 0) return
      let outcomes: ReadonlyArray<boolean | MessageRefused | undefined>
      try {
        outcomes = await target.appendMany(mailbox, sent.map(pending => pending.message))
      } catch (error) {
        if (!(error instanceof QuotaExceeded)) throw error
        // The account fails with what it got counted, and what is left of it: the messages of the batch the server
        // did not take, the files after it, and the later folders.
        countOutcomes(sent, error.settled)
        report.left = error.settled.filter(outcome => outcome === undefined).length + (files.length - 1 - sent.at(-1)!.index)
          + await messageCount(folders.slice(index + 1))
        throw error
      }

      countOutcomes(sent, outcomes)
    }

    // Counted as each batch goes in: an account stopped half-way (its quota reached) still reports what it got.
    const countOutcomes = (sent: readonly PendingFile[], outcomes: ReadonlyArray<boolean | MessageRefused | undefined>) => {
      const before = {restored: counts.restored, skipped: counts.skipped}
      countAppended(counts, sent, outcomes)
      report.restored += counts.restored - before.restored
      report.skipped += counts.skipped - before.skipped
      for (const {item, reason} of counts.unrestored.splice(0)) {
        unrestored({
          item, type: 'message', folderPath: folder.path, reason,
        })
      }
    }

    for (const [fileIndex, file] of files.entries()) {
      throwIfAborted(signal)
      const name = parseMaildirFileName(path.basename(file))
      const recorded = name.item === null ? undefined : messages.get(name.item)
      if (name.item !== null) seen.add(name.item)
      const item = name.item ?? path.basename(file)
      const read = await readMaildirFile({
        path: file, relative: path.relative(exported.directory, file), flags: name.flags, recorded,
      })
      if (typeof read === 'string') {
        unrestored({
          item, type: 'message', folderPath: folder.path, reason: read,
        })
        continue
      }

      batch.push({index: fileIndex, item, message: read})
      batchBytes += read.bytes.length
      if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) await flush()
    }

    await flush()
    const {restored, skipped} = counts
    progress({kind: 'step', account: exported.account, message: `${folder.path}: ${restored} restored, ${skipped} already there`})
    options.onCounts()
  }

  for (const message of messages.values()) {
    if (seen.has(message.id)) continue
    const reason = message.file === null
      ? (message.contentReason ?? 'its content is not in the export')
      : `its Maildir file ${message.file} is missing from the export`
    unrestored({
      item: message.id, type: 'message', folderPath: message.folderPath, reason,
    })
  }
}

/** A Maildir file of the export read for appendMany, with its position among the folder's files. */
interface PendingFile {
  index: number
  item: string
  message: RestoreMessage
}

/**
 * One Maildir file as the message to append, or why it cannot go in (unreadable, or not the content items.ndjson
 * recorded), which concerns that message only.
 */
async function readMaildirFile(file: {path: string; relative: string; flags: string[]; recorded: ExportedMessage | undefined}): Promise<RestoreMessage | string> {
  const {recorded} = file
  let message: RestoreMessage
  try {
    message = await messageOf(file.path, file.flags, recorded)
  } catch (error) {
    return `its Maildir file ${file.relative} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`
  }

  // doExport wrote the exact bytes it recorded the digest of, and Maildir files are never rewritten in place (a mail
  // program's change of flags is a rename): other bytes are a copy gone bad. Imported, they would stand on the server
  // as the backed-up message, so that one is refused and listed, naming the file, and the others go in.
  if (recorded?.digest && recorded.digest !== message.digest) {
    return `its Maildir file ${file.relative} is not the content items.ndjson recorded (sha256 ${message.digest.slice(0, 12)}..., `
      + `${message.bytes.length} bytes; recorded ${recorded.digest.slice(0, 12)}...): damaged since the export, not imported`
  }

  return message
}

async function messageOf(file: string, flags: string[], recorded: ExportedMessage | undefined): Promise<RestoreMessage> {
  const bytes = await readFile(file)
  // The file's mtime only for mail items.ndjson does not know (delivered into the tree by another program).
  const internalDate = recorded?.internalDate ?? recorded?.firstSeen ?? (await stat(file)).mtime
  return {
    bytes,
    digest: sha256(bytes),
    flags: [...new Set([...(recorded?.keywords ?? []), ...flags])],
    internalDate,
    // From the bytes, as the restore target reads the Message-ID of what a folder holds: the two must agree for a
    // second import to recognise the first one's messages.
    messageId: messageIdOf(bytes),
  }
}

function messageIdOf(bytes: Buffer): null | string {
  const ends = [bytes.indexOf('\r\n\r\n'), bytes.indexOf('\n\n')].filter(index => index >= 0)
  const header = ends.length === 0 ? bytes : bytes.subarray(0, Math.min(...ends) + 2)
  return parseHeaders(header).messageId
}

/**
 * The folders of an account's Maildir++ tree, parents first: the Inbox (the root) and every `.<name>` directory,
 * named by folders.json when it lists the directory (the exact path the folder had), else by decoding the name.
 */
async function maildirFolders(directory: string): Promise<MaildirFolder[]> {
  const root = path.join(directory, MAILDIR_DIR)
  const named = new Map<string, {path: string; specialUse: null | string}>()
  for (const folder of await readFoldersFile(directory)) {
    if (typeof folder.maildir !== 'string' || typeof folder.path !== 'string' || named.has(folder.maildir)) continue
    const specialUse = (folder.metadata as undefined | {specialUse?: unknown})?.specialUse
    named.set(folder.maildir, {path: folder.path, specialUse: typeof specialUse === 'string' ? specialUse : null})
  }

  let entries
  try {
    entries = await readdir(root, {withFileTypes: true})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }

  const folders: MaildirFolder[] = []
  const candidates = ['', ...entries.filter(e => e.isDirectory() && e.name.startsWith('.')).map(e => e.name)]
  for (const name of candidates) {
    const dir = path.join(root, name)
    if (!(await isDirectory(path.join(dir, 'cur'))) && !(await isDirectory(path.join(dir, 'new')))) continue
    const known = named.get(path.join(MAILDIR_DIR, name))
    folders.push({path: known?.path ?? folderPathOfMaildir(name), directory: dir, specialUse: known?.specialUse ?? null})
  }

  return folders.sort((a, b) => (a.path < b.path ? -1 : (a.path > b.path ? 1 : 0)))
}

async function readFoldersFile(directory: string): Promise<Array<{maildir?: unknown; metadata?: unknown; path?: unknown}>> {
  const file = path.join(directory, FOLDERS_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    // Without folders.json the Maildir directory names still give every folder's path.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }

  try {
    const folders = JSON.parse(text)
    if (Array.isArray(folders)) return folders
  } catch {
    // Reported below.
  }

  throw new UserError(`${file} is not the JSON list of folders doExport writes: the export is damaged; export the account again`)
}

/** The message files of these Maildir folders. */
async function messageCount(folders: readonly MaildirFolder[]): Promise<number> {
  let count = 0
  for (const folder of folders) count += (await messageFiles(folder.directory)).length
  return count
}

/** What names each message of a Maildir folder: its item id, or its file name for mail another program delivered. */
async function folderItems(folderDirectory: string): Promise<string[]> {
  return (await messageFiles(folderDirectory)).map(file => parseMaildirFileName(path.basename(file)).item ?? path.basename(file))
}

/** The message files of one Maildir folder (cur/ and new/), in name order: the order doExport delivered them. */
async function messageFiles(folderDirectory: string): Promise<string[]> {
  const files: string[] = []
  for (const sub of ['cur', 'new']) {
    const dir = path.join(folderDirectory, sub)
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }

    for (const entry of entries) if (entry.isFile() && !entry.name.startsWith('.')) files.push(path.join(dir, entry.name))
  }

  return files.sort((a, b) => (path.basename(a) < path.basename(b) ? -1 : 1))
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory()
  } catch {
    return false
  }
}
