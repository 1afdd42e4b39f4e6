import type {OperationContext} from '../operations/run-operation.js'
import type {PointInTime} from '../point-in-time.js'

import {imapSettings} from '../appserver/imap/imap-settings.js'
import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {findAccount} from '../history/account-lookup.js'
import {FolderHistory} from '../history/folder-history.js'
import {isoTime} from '../history/history-time.js'
import {itemHistory, type ItemStateAt} from '../history/item-history.js'
import {withReport} from '../operations/failure-report.js'
import {ContentSource} from './content-source.js'
import {ImapRestoreTarget} from './imap-restore-target.js'
import {QuotaExceeded} from './quota-exceeded.js'
import {restoreMessageOf} from './restore-message.js'
import {announceRenamed, type RenamedFolder} from './separator-in-name.js'
import {checkSource} from './source-check.js'
import {specialUsesOf} from './special-use-place.js'
import {copiesMayBeItselfFrom, survivingCopies} from './surviving-copies.js'

export interface ItemRestoreRequest {
  account: string
  item: string
  /** The state to restore: the one valid at a time, or (last, the default) the last state before any deletion. */
  point?: PointInTime
  /** A folder path ("/Restored") instead of the item's original folder. */
  restoreFolder?: string
}

export interface ItemRestoreReport extends Record<string, unknown> {
  account: string
  item: string
  /** When the restored state began. */
  state: string
  folderPath: string
  restored: boolean
  /** The folder already had the message: nothing appended. */
  skipped: boolean
  /** The folder restored under another name: its name held the destination's hierarchy separator. */
  renamedFolders: RenamedFolder[]
  /** The account was full: the message did not go in; the same command, run once the quota is raised, restores it. */
  left: boolean
  uncertain: boolean
  smartScanFirst: boolean
}

/**
 * A restore_folder as given ("Restored", "//Restored") as the folder path the catalog uses ("/Restored"); an empty
 * name or a bare "/" names no folder a message could go into.
 */
export function restoreFolderPath(input: string): string {
  const name = input.replace(/^\/+/, '').replace(/\/+$/, '')
  if (!name) throw new UserError(`restore_folder '${input}' names no folder: give a folder path such as /Restored`)
  return `/${name}`
}

/**
 * doItemRestore: one message of an account, as it was at a time (by default its last state that was not a
 * deletion), is appended into its original folder or into `restoreFolder`, with its exact bytes, flags and internal
 * date, unless the folder has it already. A message whose content is gone from the backup and from the AppServer
 * fails the operation with one line naming it.
 */
export async function restoreItem(context: OperationContext, request: ItemRestoreRequest): Promise<ItemRestoreReport> {
  const {catalog, progress, server, signal} = context
  const settings = imapSettings(await serverConfig(catalog, server))
  let account = await findAccount(catalog, request.account)
  // A deleted account has no mailbox to put the message back into: the login as it failed with an error that
  // blamed the master user's settings (or asked whether the account exists), after an operation had started.
  if (account.deletedAt !== null) {
    throw new UserError(`account ${account.name} was deleted at ${isoTime(account.deletedAt)}: doItemRestore puts a message back into a live account; `
      + `carbonio backup doRestoreOnNewAccount ${account.name} <account> ${isoTime(account.deletedAt - 1)} restores its mail into another one`)
  }

  const check = await checkSource(context, account)
  if (check.scanned) account = await findAccount(catalog, request.account)
  const history = await itemHistory(catalog, account.name, request.item, {kind: 'all'})
  if (history.type !== 'message') throw new UserError(`item ${request.item} of ${account.name} is a ${history.type}: only messages can be restored into the mail server`)
  const state = chooseState(history.states, request, account.name)
  const folders = await FolderHistory.load(catalog.db, account.key)
  // Its folder renamed since the chosen moment is still its folder, as doUndelete has it: not a new one of the old name.
  const folderPath = request.restoreFolder ?? folders.homePath(state.folder, state.validFrom)
  const content = new ContentSource(catalog, {account: account.name, settings, signal})
  let bytes: Buffer
  try {
    const read = await content.read({accountKey: account.key, item: request.item, state})
    if (!read.ok) {
      progress({kind: 'warning', account: account.name, message: `item ${request.item} not restored: ${read.reason}`})
      throw new UserError(`item ${request.item} of ${account.name} cannot be restored: ${read.reason}`)
    }

    bytes = read.bytes
  } finally {
    await content.close()
  }

  const target = await ImapRestoreTarget.open(settings, account.name, signal)
  try {
    // Into its own folder as the account restores put it: a sent message into the destination's \Sent (Gesendet),
    // where an account restore onto that server put it, not into a new plain "Sent" as a second copy.
    const placing = request.restoreFolder === undefined ? specialUsesOf(folders.foldersAt(state.validFrom)) : undefined
    const mailbox = await target.ensureFolder(folderPath, placing)
    const renamedFolders: RenamedFolder[] = []
    announceRenamed({renamedFolders}, progress, account.name, target.renamingOf(folderPath, placing))
    const message = restoreMessageOf(state, bytes)
    // Another copy of the same content that was already there when this item left the folder (or, while the item is
    // there, any other copy) is another message, not this one.
    const path = `/${folderPath.split('/').filter(Boolean).join('/')}`
    const others = await survivingCopies(catalog, account.key, folders, {
      path, seenBefore: new Map([[message.digest, copiesMayBeItselfFrom(history.states, folders, path)]]), except: request.item,
    })
    await target.setAside(mailbox, message, others.get(message.digest) ?? 0)
    const report = (appended: boolean): ItemRestoreReport => ({
      account: account.name,
      item: request.item,
      state: isoTime(state.validFrom),
      folderPath,
      restored: appended,
      skipped: !appended,
      left: false,
      renamedFolders,
      uncertain: check.uncertain,
      smartScanFirst: check.scanned,
    })
    let appended: boolean
    try {
      appended = await target.append(mailbox, message)
    } catch (error) {
      // The failure says it all but the counts, which the other restores end with too: nothing went in, one is left.
      if (error instanceof QuotaExceeded) throw withReport(error, {...report(false), skipped: false, left: true})
      throw error
    }

    progress({kind: 'step', account: account.name, message: `item ${request.item} ${appended ? 'restored into' : 'already in'} ${folderPath}`})
    return report(appended)
  } finally {
    await target.close()
  }
}

function chooseState(states: ItemStateAt[], request: ItemRestoreRequest, account: string): ItemStateAt {
  const point = request.point ?? {kind: 'last'}
  if (point.kind === 'at') {
    const state = states.find(s => s.validFrom <= point.at && (s.validTo === null || point.at < s.validTo))
    if (!state) throw new UserError(`item ${request.item} of ${account} did not exist yet at ${isoTime(point.at)}: its history starts at ${isoTime(states[0].validFrom)}`)
    if (state.deleted) throw new UserError(`item ${request.item} of ${account} was deleted at ${isoTime(point.at)} (since ${isoTime(state.validFrom)}): give an earlier date`)
    return state
  }

  if (point.kind !== 'last') throw new UserError(`doItemRestore needs a date or last, not ${point.kind}`)
  const live = states.filter(s => !s.deleted)
  if (live.length === 0) throw new UserError(`item ${request.item} of ${account} has no state that is not a deletion`)
  return live.at(-1)!
}
