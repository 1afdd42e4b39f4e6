import {createReadStream} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'
import {createInterface} from 'node:readline'

import type {BlobStore} from '../blobstore/blob-store.js'
import type {Catalog} from '../catalog/catalog.js'
import type {AccountEntry} from '../history/account-lookup.js'
import type {ProgressSink} from '../progress.js'
import type {ContentSource} from '../restore/content-source.js'

import {throwIfAborted} from '../errors.js'
import {certaintyOf} from '../history/account-certainty-view.js'
import {
  describeHistoryTime, type HistoryTime, isoOrNull, isoTime,
} from '../history/history-time.js'
import {contentUnavailableReason} from '../history/item-revision.js'
import {type ItemAt, stateAt} from '../history/state-at.js'
import {maildirFolderName, messageFileName, safeName} from './maildir-names.js'
import {MaildirTree} from './maildir-tree.js'
import {mkdirPrivate, PrivateStreamFile, writePrivateFile} from './private-files.js'

/** Version of the export layout that manifest.json declares; doExternalRestore reads it. */
export const EXPORT_FORMAT_VERSION = 1
export const MAILDIR_DIR = 'Maildir'
export const CONTENT_DIR = 'content'
export const FOLDERS_FILE = 'folders.json'
export const ITEMS_FILE = 'items.ndjson'
export const MANIFEST_FILE = 'manifest.json'

/** Running totals across the accounts of one export, reported as the operation's counters. */
export interface ExportTotals {
  accounts: number
  items: number
  messages: number
  bytes: number
  missingContent: number
}

export interface AccountExportOptions {
  catalog: Catalog
  blobs: BlobStore
  /** Where content that is not in the blob store (blobless mode) is read: the AppServer, as restores read it. */
  content: ContentSource
  account: AccountEntry
  /** The address the export names the account by (its address at the exported time). */
  label: string
  at: HistoryTime
  /** What the administrator asked for (last, first or a time), for the manifest. */
  requested: string
  exportedAt: number
  /** Where to write: an empty directory (the caller renames it into place once this returns). */
  directory: string
  signal: AbortSignal
  progress: ProgressSink
  totals: ExportTotals
}

export interface AccountExportResult {
  account: string
  accountId: null | string
  pointInTime: string
  folders: number
  maildirFolders: number
  items: number
  byType: Record<string, number>
  messages: number
  contentFiles: number
  bytes: number
  /** Items listed in the manifest whose content is not in the export (and why, in manifest.json). */
  missingContent: number
  certain: boolean
  uncertainReason: null | string
  /** For an uncertain account: "a SmartScan is required ..." */
  warning: null | string
}

interface MissingContent {
  item: string
  type: string
  folderPath: string
  digest: null | string
  reason: string
}

const PROGRESS_EVERY = 250
const STEP_EVERY_MS = 2000

/**
 * Writes one account as it was at `at`: a Maildir++ tree of its messages with their exact original bytes and their
 * flags in the file names, the raw content of its other items, folders.json, items.ndjson (one line per live item
 * of every type) and manifest.json. Items whose content is not in the backup are listed in the manifest, never
 * dropped silently. Checks the AbortSignal between items.
 */
export async function exportAccount(options: AccountExportOptions): Promise<AccountExportResult> {
  const {account, at, directory, progress, signal, totals} = options
  const state = await stateAt(options.catalog, account, at)
  const certainty = await certaintyOf(options.catalog.db, account.key)
  const doubt = certainty.certain ? null : `uncertain (${certainty.reason}): ${certainty.advice}`
  const warning = doubt === null ? null : `${options.label} is ${doubt}`
  if (doubt) progress({kind: 'warning', account: options.label, message: doubt})

  await mkdirPrivate(directory)
  const maildir = new MaildirTree(path.join(directory, MAILDIR_DIR))
  // The Inbox is the Maildir root: it always exists, so the tree is a valid Maildir even without messages.
  await maildir.ensureFolder('/Inbox')
  for (const folder of state.folders) {
    if (folder.view === null || folder.view === 'message') await maildir.ensureFolder(folder.path)
  }

  const result: AccountExportResult = {
    account: options.label,
    accountId: account.remoteId,
    pointInTime: describeHistoryTime(at),
    folders: state.folders.length,
    maildirFolders: 0,
    items: 0,
    byType: {},
    messages: 0,
    contentFiles: 0,
    bytes: 0,
    missingContent: 0,
    certain: certainty.certain,
    uncertainReason: certainty.reason,
    warning,
  }
  progress({kind: 'step', account: options.label, message: `exporting at ${describeHistoryTime(at)}`})
  const items = new PrivateStreamFile(path.join(directory, ITEMS_FILE))
  // Missing contents are spooled to a file and copied into the manifest at the end: memory stays flat even when
  // a blobless backup has no content for any of 100,000 items.
  const missing = new PrivateStreamFile(path.join(directory, '.missing-content.ndjson'))
  let contentDirReady = false
  let lastStep = Date.now()
  try {
    for await (const item of state.items()) {
      throwIfAborted(signal)
      const written = await exportContent(options, maildir, item, async () => {
        if (!contentDirReady) await mkdirPrivate(path.join(directory, CONTENT_DIR))
        contentDirReady = true
      })
      if (written.file === null && written.reason !== null) {
        result.missingContent++
        totals.missingContent++
        const entry: MissingContent = {
          item: item.id, type: item.type, folderPath: item.folderPath, digest: item.blobDigest, reason: written.reason,
        }
        await missing.write(JSON.stringify(entry) + '\n')
      }

      if (written.file !== null) {
        if (item.type === 'message') result.messages++
        else result.contentFiles++
        result.bytes += written.bytes
        totals.bytes += written.bytes
        if (item.type === 'message') totals.messages++
      }

      await items.write(JSON.stringify(itemRecord(item, written.file, written.reason)) + '\n')
      result.items++
      totals.items++
      result.byType[item.type] = (result.byType[item.type] ?? 0) + 1
      if (result.items % PROGRESS_EVERY === 0) {
        progress({kind: 'counters', counters: {...totals}})
        // A line per few seconds, not per few items: without a terminal every step is a line of the log.
        if (Date.now() - lastStep >= STEP_EVERY_MS) {
          lastStep = Date.now()
          progress({kind: 'step', account: options.label, message: `${result.items} items`})
        }
      }
    }

    await items.close()
    await missing.close()
  } catch (error) {
    await items.discard()
    await missing.discard()
    throw error
  }

  result.maildirFolders = maildir.folderCount
  // Written after the items: a folder of another view that holds messages got a Maildir too.
  await writePrivateFile(path.join(directory, FOLDERS_FILE), JSON.stringify(state.folders.map(folder => ({
    ...folder,
    since: isoTime(folder.since),
    maildir: maildir.has(folder.path) ? path.join(MAILDIR_DIR, maildirFolderName(folder.path)) : null,
  })), null, 2) + '\n')
  await writeManifest(options, result, certainty, path.join(directory, '.missing-content.ndjson'))
  progress({kind: 'counters', counters: {...totals}})
  return result
}

interface WrittenContent {
  /** Relative to the account's directory; null when nothing was written. */
  file: null | string
  bytes: number
  /** Why the content is not in the export, for an item that has content. */
  reason: null | string
}

async function exportContent(
  options: AccountExportOptions,
  maildir: MaildirTree,
  item: ItemAt,
  prepareContentDir: () => Promise<void>,
): Promise<WrittenContent> {
  // An item without content (an appointment given only as metadata) has nothing to export and nothing missing.
  if (item.blobDigest === null && !item.contentMissing) return {file: null, bytes: 0, reason: null}
  const content = await contentOf(options, item)
  if (!Buffer.isBuffer(content)) return {file: null, bytes: 0, reason: content.reason}
  if (item.type === 'message') {
    const file = await maildir.deliver(item.folderPath, messageFileName(item.firstSeen, item.id, item.flags), content, item.firstSeen)
    return {file, bytes: content.length, reason: null}
  }

  await prepareContentDir()
  const file = path.join(CONTENT_DIR, safeName(item.id))
  await writePrivateFile(path.join(options.directory, file), content, item.firstSeen)
  return {file, bytes: content.length, reason: null}
}

/** The exact bytes of an item, or why the export cannot have them. */
async function contentOf(options: AccountExportOptions, item: ItemAt): Promise<Buffer | {reason: string}> {
  if (!item.contentStored && !item.contentMissing) {
    // Not in the backup (blobless mode): the AppServer still has it unless it was deleted there since. Without this
    // read, an export of a blobless backup (the way off the old server) held not one message.
    const read = await options.content.read({accountKey: options.account.key, item: item.id, state: item})
    return read.ok ? read.bytes : {reason: read.reason}
  }

  const unavailable = contentUnavailableReason(item)
  if (unavailable) return {reason: unavailable}
  try {
    return await options.blobs.get(item.blobDigest!)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const reason = code === 'ENOENT' ? `blob ${item.blobDigest} is missing from the backup's blob store` : (error as Error).message
    options.progress({kind: 'warning', account: options.label, message: `item ${item.id}: ${reason}`})
    return {reason}
  }
}

function itemRecord(item: ItemAt, file: null | string, reason: null | string): Record<string, unknown> {
  return {
    id: item.id,
    type: item.type,
    folder: item.folder,
    folderPath: item.folderPath,
    flags: item.flags,
    tags: item.tags,
    metadata: item.metadata,
    digest: item.blobDigest,
    size: item.size,
    file,
    contentMissing: file === null && reason !== null,
    contentReason: reason,
    firstSeen: isoTime(item.firstSeen),
    since: isoTime(item.validFrom),
    until: isoOrNull(item.validTo),
    operation: item.operation,
    seq: item.seq,
  }
}

async function writeManifest(
  options: AccountExportOptions,
  result: AccountExportResult,
  certainty: Awaited<ReturnType<typeof certaintyOf>>,
  missingSpool: string,
): Promise<void> {
  const head = {
    formatVersion: EXPORT_FORMAT_VERSION,
    generator: 'carbonio-backup',
    account: options.label,
    accountId: options.account.remoteId,
    accountDeletedAt: isoOrNull(options.account.deletedAt),
    pointInTime: {
      requested: options.requested,
      at: options.at === 'last' ? null : isoTime(options.at),
      description: options.at === 'last'
        ? `the current state at ${isoTime(options.exportedAt)}`
        : 'each item in the state valid at that time (valid_from <= at < valid_to)',
    },
    exportedAt: isoTime(options.exportedAt),
    certainty: {
      certain: certainty.certain, reason: certainty.reason, since: isoOrNull(certainty.since), warning: result.warning,
    },
    layout: {
      maildir: `${MAILDIR_DIR}/ (Maildir++: the Inbox is the Maildir root, "/A/B" is ".A.B"; messages in cur/ named <time>.<item id>.carbonio-backup:2,<flags>)`,
      folders: FOLDERS_FILE,
      items: `${ITEMS_FILE} (one JSON object per line: every live item of every type)`,
      content: `${CONTENT_DIR}/<item id> (raw content of items other than messages)`,
    },
    counts: {
      folders: result.folders,
      maildirFolders: result.maildirFolders,
      items: result.items,
      byType: result.byType,
      messages: result.messages,
      contentFiles: result.contentFiles,
      bytes: result.bytes,
      missingContent: result.missingContent,
    },
  }
  const manifest = new PrivateStreamFile(path.join(options.directory, MANIFEST_FILE))
  try {
    // `{...head, "missingContent": [ <one entry per spooled line> ]}`, streamed from the spool file.
    await manifest.write(JSON.stringify(head, null, 2).replace(/\n}$/, ',\n  "missingContent": ['))
    let first = true
    const lines = createInterface({input: createReadStream(missingSpool), crlfDelay: Number.POSITIVE_INFINITY})
    for await (const line of lines) {
      if (line === '') continue
      await manifest.write(`${first ? '' : ','}\n    ${line}`)
      first = false
    }

    await manifest.write(first ? ']\n}\n' : '\n  ]\n}\n')
    await manifest.close()
  } catch (error) {
    await manifest.discard()
    throw error
  } finally {
    await rm(missingSpool, {force: true})
  }
}
