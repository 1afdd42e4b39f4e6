import type {OperationContext} from '../operations/run-operation.js'
import type {PointInTime} from '../point-in-time.js'

import {imapSettings} from '../appserver/imap/imap-settings.js'
import {now} from '../catalog/catalog.js'
import {serverConfig} from '../config/config-store.js'
import {throwIfAborted, UsageError, UserError} from '../errors.js'
import {
  absenceReason, type AccountEntry, existedAt, findAccount,
} from '../history/account-lookup.js'
import {itemKeysByFolder, itemsOfKeys} from '../history/folder-item-keys.js'
import {describeHistoryTime, type HistoryTime} from '../history/history-time.js'
import {type ItemAt, stateAt} from '../history/state-at.js'
import {mapAhead} from '../map-ahead.js'
import {appendCounted, type AppendCounts} from './append-counts.js'
import {appendGroups} from './append-groups.js'
import {type ContentResult, ContentSource} from './content-source.js'
import {type EmptiedAccount, emptiedAccountWarning} from './emptied-account.js'
import {folderOrRefusal, FolderRefused} from './folder-refused.js'
import {QuotaExceeded} from './quota-exceeded.js'
import {openDestination} from './restore-destination.js'
import {restoreMessageOf} from './restore-message.js'
import {
  newTally, recordFolder, recordUnrestored, type RestoreTally, stoppedByQuota,
} from './restore-tally.js'
import {announceRenamed} from './separator-in-name.js'
import {compareArrival} from './server-order.js'
import {checkSource} from './source-check.js'
import {specialUsesOf} from './special-use-place.js'
import {restoreMomentInto, takeDestination} from './unfinished-restore.js'

export interface RestoreOnNewAccountRequest {
  source: string
  destination: string
  point: PointInTime
  /** Restore into a destination that already has messages (idempotent: what is there already is skipped). */
  force?: boolean
}

export type {UnrestoredItem} from './restore-tally.js'

export interface RestoreReport extends Record<string, unknown>, RestoreTally {
  source: string
  destination: string
  pointInTime: string
  /** Restoring `last` an account that a recent mass deletion (nearly) emptied: the date to use instead. */
  emptied: EmptiedAccount | null
  /** The destination did not exist: backupProvisioningCommand created it. */
  created: boolean
}

/** Groups read ahead of the one being appended: the reading goes on while the server takes a MULTIAPPEND. */
const READ_AHEAD = 2

interface GroupRead {
  content: ContentSource
  accountKey: number
  signal: AbortSignal
}

/** The contents of a group of items, in order (the blob reader threads read a group's stored blobs together). */
async function readGroup({accountKey, content, signal}: GroupRead, items: readonly ItemAt[]): Promise<ContentResult[]> {
  throwIfAborted(signal)
  return content.readMany(items.map(item => ({accountKey, item: item.id, state: item})))
}

function noStateAt(account: AccountEntry, at: HistoryTime): string {
  return `${account.name} cannot be restored at ${describeHistoryTime(at)}: ${absenceReason(account, at)}`
}

/** The moment a restore reads the history at: `last` or an exact time (first and all name no single state). */
export function restoreTime(point: PointInTime): HistoryTime {
  if (point.kind === 'last') return 'last'
  if (point.kind === 'at') return point.at
  throw new UsageError(`a restore needs a date or last, not ${point.kind}`)
}

/**
 * doRestoreOnNewAccount: the destination account (which must exist on the AppServer, or be created by
 * backupProvisioningCommand, and hold no message, unless forced) gets the folders and messages the source had at
 * that moment, with their exact bytes, flags, keywords and internal dates, folder by folder, a MULTIAPPEND per group
 * of messages while the next groups are read. Messages already in a destination folder are skipped, so a second run
 * adds nothing, and one stopped half-way completes without duplicates. Content comes from the blob store, or from the
 * AppServer in blobless mode; a message whose content is gone both places is listed as unrestored.
 */
export async function restoreOnNewAccount(context: OperationContext, request: RestoreOnNewAccountRequest): Promise<RestoreReport> {
  const {catalog, progress, signal, server} = context
  let account = await findAccount(catalog, request.source, restoreTime(request.point))
  const config = await serverConfig(catalog, server)
  const settings = imapSettings(config)
  const destination = request.destination.toLowerCase()
  // A date the source has no state at is refused before the destination is touched: backupProvisioningCommand would
  // otherwise create the destination account, and then the restore fail with nothing to put in it. (At last, the
  // moment may yet be that of an unfinished run: checked once it is known, below.)
  if (request.point.kind === 'at' && !existedAt(account, request.point.at)) throw new UserError(noStateAt(account, request.point.at))
  const {created, target} = await openDestination(settings, destination, {
    provisioningCommand: config.get('backupProvisioningCommand'), progress, signal,
  })
  let content: ContentSource | undefined
  try {
    const existing = await target.folders()
    const present = existing.reduce((sum, folder) => sum + folder.messages, 0)
    const at = await restoreMomentInto(context, {...request, destination}, present)
    // Completing an unfinished run of last: the source as it was at that run's moment.
    if (at !== restoreTime(request.point)) account = await findAccount(catalog, request.source, at)
    const check = await checkSource(context, account)
    if (check.scanned) account = await findAccount(catalog, request.source, at)
    // After the source check: for last, the moment taken includes what its SmartScan recorded.
    await takeDestination(catalog, context.uuid, destination, at === 'last' ? now() : at)
    const state = await stateAt(catalog, account, at)
    if (!state.exists) throw new UserError(noStateAt(account, at))
    const emptied = await emptiedAccountWarning(catalog, account, at, progress)
    // Only the messages' keys are held, folder by folder in arrival order; the messages are read as they are appended.
    const byFolder = await itemKeysByFolder(catalog, state, ['message'])
    for (const keys of byFolder.values()) keys.sort(compareArrival)

    const paths = [...new Set([...byFolder.keys(), ...state.folders.filter(f => f.view === null || f.view === 'message').map(f => f.path)])].sort()
    // What each folder was for (an IMAP server's special use), so that sent mail lands in the destination's \Sent.
    const specialUseOf = specialUsesOf(state.folders)
    const report: RestoreReport = {
      source: account.name,
      destination,
      pointInTime: describeHistoryTime(at),
      ...newTally(check),
      emptied,
      created,
    }
    content = new ContentSource(catalog, {account: account.name, settings: check.settings, signal})
    const reader: GroupRead = {content, accountKey: account.key, signal}
    const groups = appendGroups(paths.map(path => ({path, items: itemsOfKeys(catalog, state, {path, keys: byFolder.get(path) ?? []})})))
    let mailbox: FolderRefused | string = ''
    let folder: AppendCounts = {restored: 0, skipped: 0, unrestored: []}
    const countFolder = (path: string) => {
      for (const {item, reason} of folder.unrestored) recordUnrestored(report, progress, destination, {item, folderPath: path, reason})
      recordFolder(report, progress, destination, {path, restored: folder.restored, skipped: folder.skipped})
    }

    for await (const {group, reads} of mapAhead(groups, async group => ({group, reads: await readGroup(reader, group.items)}), READ_AHEAD)) {
      throwIfAborted(signal)
      if (group.first) {
        mailbox = await folderOrRefusal(target, group.path, specialUseOf)
        if (typeof mailbox === 'string') {
          report.folders++
          announceRenamed(report, progress, destination, target.renamingOf(group.path, specialUseOf))
        }

        folder = {restored: 0, skipped: 0, unrestored: []}
      }

      const messages = []
      for (const [i, read] of reads.entries()) {
        // A folder the destination will not create (a name its storage does not allow): only its messages stay out.
        if (mailbox instanceof FolderRefused) folder.unrestored.push({item: group.items[i].id, reason: mailbox.message})
        else if (read.ok) messages.push({item: group.items[i].id, message: restoreMessageOf(group.items[i], read.bytes)})
        else folder.unrestored.push({item: group.items[i].id, reason: read.reason})
      }

      if (typeof mailbox === 'string') {
        try {
          await appendCounted(target, mailbox, folder, messages)
        } catch (error) {
          if (!(error instanceof QuotaExceeded)) throw error
          // A full account ends the run with its counts as a finished one does, the folder it stopped in included,
          // and what is left.
          countFolder(group.path)
          throw stoppedByQuota(error, report, [...byFolder.values()].reduce((sum, items) => sum + items.length, 0))
        }
      }

      if (group.last) countFolder(group.path)
    }

    return report
  } finally {
    await content?.close()
    await target.close()
  }
}
