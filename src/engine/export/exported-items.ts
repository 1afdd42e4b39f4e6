import {createReadStream} from 'node:fs'
import path from 'node:path'
import {createInterface} from 'node:readline'

import {flagsWithTags} from '../appserver/imap/tag-keywords.js'
import {UserError} from '../errors.js'
import {ITEMS_FILE} from './account-export.js'

/** What an import needs of an exported message beyond its Maildir file: its keywords and its internal date. */
export interface ExportedMessage {
  id: string
  folderPath: string
  /** Flags that are not system flags (`$Forwarded`, `$Label1`) and tags as keywords: a Maildir file name carries neither. */
  keywords: string[]
  internalDate: Date | null
  /**
   * When the backup first saw the item (its creation): the internal date of a message whose history has none (a
   * backup fed by the redolog), instead of the file's mtime, which a copy of the tree (`cp -r`, `scp -r`) replaces.
   */
  firstSeen: Date | null
  digest: null | string
  /** The Maildir file, relative to the account's directory; null when the content is not in the export. */
  file: null | string
  /** Why the content is not in the export. */
  contentReason: null | string
}

/** An item that is not a message (contact, appointment, task, document). */
export interface ExportedOtherItem {
  id: string
  type: string
  folderPath: string
}

interface ItemLine {
  id?: unknown
  type?: unknown
  folderPath?: unknown
  flags?: unknown
  tags?: unknown
  metadata?: {internalDate?: unknown}
  firstSeen?: unknown
  digest?: unknown
  file?: unknown
  contentReason?: unknown
}

/**
 * Reads an account's items.ndjson: messages are returned by item id (few fields each, so that 100,000 of them stay
 * small), every other item is handed to `other` as it is read. A line that is not an item is one line naming the
 * file and the line number.
 */
export async function readExportedItems(directory: string, other: (item: ExportedOtherItem) => void): Promise<Map<string, ExportedMessage>> {
  const file = path.join(directory, ITEMS_FILE)
  const messages = new Map<string, ExportedMessage>()
  const input = createReadStream(file)
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve())
    input.once('error', error => reject(new UserError(`${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? error.message}): the export of this account is incomplete`)))
  })
  await opened
  let number = 0
  for await (const line of createInterface({input, crlfDelay: Number.POSITIVE_INFINITY})) {
    number++
    if (line.trim() === '') continue
    let item: ItemLine
    try {
      item = JSON.parse(line)
    } catch {
      throw new UserError(`${file} line ${number} is not JSON: the export is damaged; export the account again`)
    }

    if (typeof item?.id !== 'string' || typeof item.type !== 'string') {
      throw new UserError(`${file} line ${number} is not an exported item (no id or type): the export is damaged; export the account again`)
    }

    const folderPath = typeof item.folderPath === 'string' ? item.folderPath : '/'
    if (item.type !== 'message') {
      other({id: item.id, type: item.type, folderPath})
      continue
    }

    const flags = strings(item.flags)
    messages.set(item.id, {
      id: item.id,
      folderPath,
      keywords: flagsWithTags(flags.filter(flag => !flag.startsWith('\\')), strings(item.tags)),
      internalDate: dateOf(item.metadata?.internalDate),
      firstSeen: dateOf(item.firstSeen),
      digest: typeof item.digest === 'string' ? item.digest : null,
      file: typeof item.file === 'string' ? item.file : null,
      contentReason: typeof item.contentReason === 'string' ? item.contentReason : null,
    })
  }

  return messages
}

/** An ISO time of items.ndjson, or null when it is missing or not a time. */
function dateOf(value: unknown): Date | null {
  const date = typeof value === 'string' ? new Date(value) : null
  return date && !Number.isNaN(date.getTime()) ? date : null
}

/** The strings of a JSON value that should be an array of strings (anything else in it is ignored). */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : []
}
