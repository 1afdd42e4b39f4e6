import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {AccountEntry} from '../history/account-lookup.js'
import type {OperationContext} from '../operations/run-operation.js'

import {imapConfigured, imapSettings} from '../appserver/imap/imap-settings.js'
import {notBackedUpBy} from '../config/backup-enabled.js'
import {serverConfig} from '../config/config-store.js'
import {serviceStatuses} from '../daemon/services.js'
import {OperationAborted} from '../errors.js'
import {certaintyOf} from '../history/account-certainty-view.js'
import {scanAccount} from '../smartscan/account-scan.js'

export interface SourceCheck {
  /** The connector settings, or null when no IMAP AppServer is configured. */
  settings: ImapSettings | null
  /** The account was uncertain before the restore. */
  uncertain: boolean
  /** An account SmartScan ran first (and brought the backup to what the server has). */
  scanned: boolean
}

/**
 * Before a restore (or an export) reads an account's history: an uncertain account (an Empty Folder, a gap, the
 * scanner off) gets an account SmartScan first when the IMAP AppServer is configured, and the output says so either
 * way. `doing` names what then goes on with the history as it is: 'restoring' or 'exporting'.
 */
export async function checkSource(context: OperationContext, account: AccountEntry, doing = 'restoring'): Promise<SourceCheck> {
  const {catalog, progress, server, signal} = context
  const config = await serverConfig(catalog, server)
  const settings = imapConfigured(config) ? imapSettings(config) : null
  const certainty = await certaintyOf(catalog.db, account.key)
  if (certainty.certain) {
    const behind = await realtimeBehind(context, account, settings !== null)
    if (behind) progress({kind: 'warning', account: account.name, message: behind})
    return {settings, uncertain: false, scanned: false}
  }

  progress({kind: 'warning', account: account.name, message: `${account.name} is uncertain (${certainty.reason ?? 'unknown reason'})`})
  if (!settings) {
    progress({kind: 'warning', account: account.name, message: `no IMAP AppServer is configured for a SmartScan: ${doing} the history as it is`})
    return {settings, uncertain: true, scanned: false}
  }

  // An account the administrator excluded is not read from the server, not even to restore it.
  const excludedBy = await notBackedUpBy(catalog.db, account.name)
  if (excludedBy) {
    progress({kind: 'warning', account: account.name, message: `not backed up (backupEnabled false at ${excludedBy}), so no SmartScan: ${doing} the history as it is`})
    return {settings, uncertain: true, scanned: false}
  }

  progress({kind: 'step', account: account.name, message: 'running an account SmartScan first'})
  try {
    await scanAccount({
      catalog, server, settings, account: account.name, signal,
    })
  } catch (error) {
    if (error instanceof OperationAborted) throw error
    progress({kind: 'warning', account: account.name, message: `the SmartScan failed, ${doing} the history as it is: ${(error as Error).message}`})
    return {settings, uncertain: true, scanned: false}
  }

  progress({kind: 'step', account: account.name, message: 'account SmartScan done'})
  return {settings, uncertain: true, scanned: true}
}

/** Whether an account SmartScan can run before a read of the history: the IMAP AppServer is configured. */
export async function canScanFirst(context: Pick<OperationContext, 'catalog' | 'server'>): Promise<boolean> {
  return imapConfigured(await serverConfig(context.catalog, context.server))
}

/**
 * Why the backup may lack the newest changes of an account that is not uncertain: the daemon ran on its server and
 * its Realtime Scanner is not following now (stopped with the daemon, switched off, failing). Nothing is marked
 * uncertain until the scanner starts again, so a restore at `last` meanwhile would silently be the state of when it
 * stopped. Undefined when it follows, or when no daemon ever ran here (SmartScans alone keep the backup then).
 */
async function realtimeBehind(context: Pick<OperationContext, 'catalog' | 'server'>, account: AccountEntry, imap: boolean): Promise<string | undefined> {
  // On a shared catalog the account is followed by the server that claimed it, whichever server runs the command.
  const row: undefined | {server: null | string} = await context.catalog.db('accounts').where({id: account.key}).first('server')
  const server = row?.server ?? context.server
  const realtime = (await serviceStatuses(context.catalog, server)).find(status => status.name === 'backup-realtime')
  // Idle: no feed is configured, so there is nothing it could follow (SmartScans keep the backup).
  if (!realtime || realtime.heartbeatAt === null || realtime.state === 'running' || realtime.state === 'idle') return undefined
  const remedy = imap ? `run backup doAccountScan ${account.name} first to include them` : 'start the backup daemon to catch up first'
  const scanner = server === context.server ? 'the Realtime Scanner' : `the Realtime Scanner of ${server}`
  if (realtime.state === 'failing') {
    return `${scanner} is failing (${String(realtime.detail.error ?? 'see backup getServices')}): recent changes may be missing from the backup; ${remedy}`
  }

  const since = typeof realtime.detail.offSince === 'string' ? realtime.detail.offSince : new Date(realtime.heartbeatAt).toISOString()
  return `${scanner} is ${realtime.state} since ${since}: changes since then may be missing from the backup; ${remedy}`
}
