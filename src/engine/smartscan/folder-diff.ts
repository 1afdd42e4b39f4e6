import type {FolderRead, MessageMeta} from '../appserver/imap/imap-session.js'
import type {BackupItem} from './backup-view.js'

import {sameFlags} from '../appserver/imap/imap-identity.js'

/** How one mailbox, as the server lists it now, differs from the items the backup has in that folder. */
export interface FolderDiff {
  /** Messages the backup has at this UIDVALIDITY/UID, with what the server says of them now. */
  kept: Array<{item: BackupItem; message: MessageMeta}>
  /** Of those, the ones whose flags (system flags or keywords) changed. */
  flagged: Array<{item: BackupItem; message: MessageMeta}>
  /** Messages at a UID the backup does not know: new here (delivered, appended, copied or moved in). */
  added: MessageMeta[]
  /** Items the folder no longer has at their UID: expunged, moved away, or re-numbered by a new UIDVALIDITY. */
  removed: BackupItem[]
  /** The message count the folder should have once the diff is applied: a mismatch means the read missed something. */
  expectedCount: number
}

/**
 * Compares a folder read (complete, or the changes since a HIGHESTMODSEQ with VANISHED) with the backup's live
 * items of that folder. Items placed at another UIDVALIDITY (or not by this connector) are all removed: the scan
 * matches them back by content among the added messages, so a new UIDVALIDITY duplicates nothing.
 * For an incremental read, `items` may hold only the items at the UIDs the read reports (and the misplaced ones), with
 * `placedTotal` the number of UIDs the folder holds in the backup (liveItemsAtUids).
 */
export function diffFolder(items: readonly BackupItem[], read: FolderRead, placedTotal?: number): FolderDiff {
  const {uidvalidity} = read.status
  const placed = new Map<number, BackupItem>()
  const removed: BackupItem[] = []
  for (const item of items) {
    if (item.place?.uidvalidity === uidvalidity && !placed.has(item.place.uid)) placed.set(item.place.uid, item)
    else removed.push(item)
  }

  const diff: FolderDiff = {
    kept: [], flagged: [], added: [], removed, expectedCount: 0,
  }
  const seen = new Set<number>()
  for (const message of read.messages) {
    seen.add(message.uid)
    const item = placed.get(message.uid)
    if (!item) {
      diff.added.push(message)
      continue
    }

    diff.kept.push({item, message})
    if (!sameFlags(item.flags, message.flags)) diff.flagged.push({item, message})
  }

  let removedPlaced = 0
  const gone = read.complete ? [...placed.keys()] : read.vanished
  for (const uid of gone) {
    const item = placed.get(uid)
    if (!item || seen.has(uid)) continue
    removed.push(item)
    removedPlaced++
  }

  diff.expectedCount = (placedTotal ?? placed.size) - removedPlaced + diff.added.length
  return diff
}
