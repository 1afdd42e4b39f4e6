import type {OperationContext} from '../operations/run-operation.js'
import type {QuotaExceeded} from './quota-exceeded.js'
import type {RenamedFolder} from './separator-in-name.js'

import {withReport} from '../operations/failure-report.js'

export interface UnrestoredItem {
  item: string
  folderPath: string
  reason: string
}

/** What a restore of backed-up messages into a live account (doRestoreOnNewAccount, doUndelete) counts and says. */
export interface RestoreTally {
  folders: number
  restored: number
  /** Already (or still) in the mailbox: nothing appended. */
  skipped: number
  unrestored: number
  unrestoredItems: UnrestoredItem[]
  /** Folders restored under another name: theirs held the destination's hierarchy separator. */
  renamedFolders: RenamedFolder[]
  /** Not tried: a full account stopped the restore before them; the same command, run again, appends them. */
  left: number
  uncertain: boolean
  smartScanFirst: boolean
}

type Progress = OperationContext['progress']

/** Nothing counted yet; uncertain and smartScanFirst from the check of the source before the restore. */
export function newTally(check: {scanned: boolean; uncertain: boolean}): RestoreTally {
  return {
    folders: 0, restored: 0, skipped: 0, unrestored: 0, unrestoredItems: [], renamedFolders: [], left: 0, uncertain: check.uncertain, smartScanFirst: check.scanned,
  }
}

/** An item whose content could not be had: counted, listed and warned about, and the restore goes on. */
export function recordUnrestored(tally: RestoreTally, progress: Progress, account: string, unrestored: UnrestoredItem): void {
  tally.unrestored++
  tally.unrestoredItems.push(unrestored)
  progress({kind: 'warning', account, message: `item ${unrestored.item} in ${unrestored.folderPath} not restored: ${unrestored.reason}`})
}

/** A folder done: its counts added, one progress line for it and the running counters. */
export function recordFolder(tally: RestoreTally, progress: Progress, account: string, folder: {path: string; restored: number; skipped: number}): void {
  tally.restored += folder.restored
  tally.skipped += folder.skipped
  progress({kind: 'step', account, message: `${folder.path}: ${folder.restored} restored, ${folder.skipped} already there`})
  progress({
    kind: 'counters', counters: {
      folders: tally.folders, restored: tally.restored, skipped: tally.skipped, unrestored: tally.unrestored,
    },
  })
}

/**
 * A restore that a full account stopped: its report, with what is left of the `total` messages it had to bring
 * back, goes with the failure as the operation's result, so that the administrator learns how far it got.
 */
export function stoppedByQuota(error: QuotaExceeded, report: Record<string, unknown> & RestoreTally, total: number): QuotaExceeded {
  report.left = Math.max(0, total - report.restored - report.skipped - report.unrestored)
  return withReport(error, report)
}

/** Items grouped by their folder's path, in the order they come. */
export async function byFolderPath<T extends {folderPath: string}>(items: AsyncIterable<T> | Iterable<T>): Promise<Map<string, T[]>> {
  const groups = new Map<string, T[]>()
  for await (const item of items) {
    const list = groups.get(item.folderPath) ?? []
    list.push(item)
    groups.set(item.folderPath, list)
  }

  return groups
}
