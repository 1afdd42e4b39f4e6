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

/**
 * The folders' items in groups of what one MULTIAPPEND carries (as many messages and bytes as the target puts in one
 * command, by the sizes the catalog recorded), folder after folder; a folder without items is one empty group, so
 * that it is still created. Bounded by bytes as well as by count, a group of large messages does not hold hundreds
 * of MiB in memory while it waits to be appended.
 */
export function appendGroups(folders: ReadonlyArray<{items: readonly ItemAt[]; path: string}>): AppendGroup[] {
  const groups: AppendGroup[] = []
  for (const {items, path} of folders) {
    const start = groups.length
    let group: ItemAt[] = []
    let bytes = 0
    for (const item of items) {
      const size = item.size ?? 0
      if (group.length > 0 && (group.length >= BATCH_MESSAGES || bytes + size > BATCH_BYTES)) {
        groups.push({
          path, items: group, first: false, last: false,
        })
        group = []
        bytes = 0
      }

      group.push(item)
      bytes += size
    }

    groups.push({
      path, items: group, first: false, last: true,
    })
    groups[start].first = true
  }

  return groups
}
