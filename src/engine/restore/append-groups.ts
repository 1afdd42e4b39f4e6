import type {ItemAt} from '../history/state-at.js'

import {BATCH_BYTES, BATCH_MESSAGES} from './imap-restore-target.js'

/** The items of one folder that are read together and appended in one MULTIAPPEND. */
export interface AppendGroup {
  path: string
  items: ItemAt[]
  /** The folder's first group: its mailbox is made ready before this one is appended. */
  first: boolean
  /** The folder's last group: the folder is counted once this one is appended. */
  last: boolean
}

/** A folder and its items in the order they are appended, read as they are needed. */
export interface FolderItems {
  path: string
  items: AsyncIterable<ItemAt> | Iterable<ItemAt>
}

/**
 * The folders' items in groups of what one MULTIAPPEND carries (as many messages and bytes as the target puts in one
 * command, by the sizes the catalog recorded, as boundedChunks cuts), folder after folder; a folder without items is
 * one empty group, so that it is still created. Bounded by bytes as well as by count, a group of large messages does
 * not hold hundreds of MiB in memory while it waits to be appended. The items are taken from their folder only as
 * the groups are asked for, so a restore holds a few groups, not the account.
 * @yields each group, in order
 */
export async function * appendGroups(folders: Iterable<FolderItems>): AsyncGenerator<AppendGroup> {
  for (const {items, path} of folders) {
    let chunk: ItemAt[] = []
    let bytes = 0
    let first = true
    for await (const item of items) {
      const size = item.size ?? 0
      if (chunk.length > 0 && (bytes + size > BATCH_BYTES || chunk.length >= BATCH_MESSAGES)) {
        // The item in hand proves this group is not the folder's last.
        yield {
          path, items: chunk, first, last: false,
        }
        first = false
        chunk = []
        bytes = 0
      }

      chunk.push(item)
      bytes += size
    }

    yield {
      path, items: chunk, first, last: true,
    }
  }
}
