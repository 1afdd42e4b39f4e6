import type {OperationContext} from '../operations/run-operation.js'
import type {PointInTime} from '../point-in-time.js'

import {imapSettings} from '../appserver/imap/imap-settings.js'
import {serverConfig} from '../config/config-store.js'
import {throwIfAborted, UsageError, UserError} from '../errors.js'
import {findAccount} from '../history/account-lookup.js'
import {describeHistoryTime, type HistoryTime} from '../history/history-time.js'
import {type ItemAt, stateAt} from '../history/state-at.js'
import {ContentSource} from './content-source.js'
import {type EmptiedAccount, emptiedAccountWarning} from './emptied-account.js'
import {openDestination} from './restore-destination.js'
import {restoreMessageOf} from './restore-message.js'
import {checkSource} from './source-check.js'

export interface RestoreOnNewAccountRequest {
  source: string
  destination: string
  point: PointInTime
  /** Restore into a destination that already has messages (idempotent: what is there already is skipped). */
  force?: boolean
}

export interface UnrestoredItem {
  item: string
  folderPath: string
  reason: string
}

export interface RestoreReport extends Record<string, unknown> {
  source: string
  destination: string
  pointInTime: string
  folders: number
  restored: number
  skipped: number
  unrestored: number
  unrestoredItems: UnrestoredItem[]
  uncertain: boolean
  smartScanFirst: boolean
  /** Restoring `last` an account that a recent mass deletion (nearly) emptied: the date to use instead. */
  emptied: EmptiedAccount | null
  /** The destination did not exist: backupProvisioningCommand created it. */
  created: boolean
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
 * that moment, with their exact bytes, flags, keywords and internal dates, folder by folder. Messages already in a
 * destination folder are skipped, so a second run adds nothing. Content comes from the blob store, or from the AppServer in blobless mode; a message whose content is
 * gone both places is listed as unrestored.
 */
export async function restoreOnNewAccount(context: OperationContext, request: RestoreOnNewAccountRequest): Promise<RestoreReport> {
  const {catalog, progress, signal, server} = context
  const at = restoreTime(request.point)
  let account = await findAccount(catalog, request.source, at)
  const config = await serverConfig(catalog, server)
  const settings = imapSettings(config)
  const destination = request.destination.toLowerCase()
  const {created, target} = await openDestination(settings, destination, {
    provisioningCommand: config.get('backupProvisioningCommand'), progress, signal,
  })
  let content: ContentSource | undefined
  try {
    const existing = await target.folders()
    const present = existing.reduce((sum, folder) => sum + folder.messages, 0)
    if (present > 0 && !request.force) {
      throw new UserError(`${destination} is not empty (${present} message${present === 1 ? '' : 's'}): restore into an empty account, or add force true to merge (messages already there are skipped)`)
    }

    const check = await checkSource(context, account)
    if (check.scanned) account = await findAccount(catalog, request.source, at)
    const state = await stateAt(catalog, account, at)
    if (!state.exists) throw new UserError(`${account.name} cannot be restored at ${describeHistoryTime(at)}: ${state.absence}`)
    const emptied = await emptiedAccountWarning(catalog, account, at, progress)
    const byFolder = new Map<string, ItemAt[]>()
    for await (const item of state.items({types: ['message']})) {
      const list = byFolder.get(item.folderPath) ?? []
      list.push(item)
      byFolder.set(item.folderPath, list)
    }

    const paths = [...new Set([...byFolder.keys(), ...state.folders.filter(f => f.view === null || f.view === 'message').map(f => f.path)])].sort()
    const report: RestoreReport = {
      source: account.name,
      destination,
      pointInTime: describeHistoryTime(at),
      folders: 0,
      restored: 0,
      skipped: 0,
      unrestored: 0,
      unrestoredItems: [],
      uncertain: check.uncertain,
      smartScanFirst: check.scanned,
      emptied,
      created,
    }
    content = new ContentSource(catalog, {account: account.name, settings: check.settings, signal})
    for (const path of paths) {
      throwIfAborted(signal)
      const mailbox = await target.ensureFolder(path)
      report.folders++
      const items = byFolder.get(path) ?? []
      let restored = 0
      let skipped = 0
      for (const item of items) {
        throwIfAborted(signal)
        const read = await content.read({accountKey: account.key, item: item.id, state: item})
        if (!read.ok) {
          report.unrestored++
          report.unrestoredItems.push({item: item.id, folderPath: path, reason: read.reason})
          progress({kind: 'warning', account: destination, message: `item ${item.id} in ${path} not restored: ${read.reason}`})
          continue
        }

        if (await target.append(mailbox, restoreMessageOf(item, read.bytes))) restored++
        else skipped++
      }

      report.restored += restored
      report.skipped += skipped
      progress({kind: 'step', account: destination, message: `${path}: ${restored} restored, ${skipped} already there`})
      progress({
        kind: 'counters', counters: {
          folders: report.folders, restored: report.restored, skipped: report.skipped, unrestored: report.unrestored,
        },
      })
    }

    return report
  } finally {
    await content?.close()
    await target.close()
  }
}
