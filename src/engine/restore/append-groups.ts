import type {ItemAt} from '../history/state-at.js'

import {boundedChunks} from './imap-restore-target.js'

/** The items of one folder that are read together and appended in one MULTIAPPEND. */
export interface AppendGroup {
  path: string
  items: ItemAt[]
  /** The folder's first group: its mailbox is made ready before this one is appended. */
  first: boolean
  /** The folder's last group: the folder is counted once this one is appended. */
  last: boolean
}

/**
 * The folders' items in groups of what one MULTIAPPEND carries (as many messages and bytes as the target puts in one
 * command, by the sizes the catalog recorded), folder after folder; a folder without items is one empty group, so
 * that it is still created. Bounded by bytes as well as by count, a group of large messages does not hold hundreds
 * of MiB in memory while it waits to be appended.
 */
export function appendGroups(folders: ReadonlyArray<{items: readonly ItemAt[]; path: string}>): AppendGroup[] {
  const groups: AppendGroup[] = []
  for (const {items, path} of folders) {
    const chunks = [...boundedChunks(items, item => item.size ?? 0)]
    if (chunks.length === 0) chunks.push([])
    for (const [i, chunk] of chunks.entries()) {
      groups.push({
        path, items: chunk, first: i === 0, last: i === chunks.length - 1,
      })
    }
  }

  return groups
}
