import type {OperationContext} from '../operations/run-operation.js'
import type {ExternalRestorePlan} from './external-restore-plan.js'

import {ImapError} from '../appserver/imap/imap-errors.js'
import {imapSettings} from '../appserver/imap/imap-settings.js'
import {serverConfig} from '../config/config-store.js'
import {OperationAborted, throwIfAborted, UserError} from '../errors.js'
import {type ExternalAccountReport, importExportedAccount} from './external-account-import.js'
import {openDestination} from './restore-destination.js'

export interface ExternalRestoreReport extends Record<string, unknown> {
  path: string
  accounts: ExternalAccountReport[]
  restored: number
  skipped: number
  unrestored: number
  /** Of `unrestored`: messages whose content is not in the export (the rest are items IMAP cannot carry). */
  unrestoredMessages: number
  /** Messages not tried: accounts that were full (QuotaExceeded); importing again appends them. */
  left: number
  /** Accounts that could not be created or opened (their `error` says why). */
  failedAccounts: number
  created: number
  realtimeScanner: boolean
  warnings: string[]
}

export const REALTIME_SCANNER_WARNING
  = 'the Realtime Scanner is on (ZxBackup_RealTimeScanner TRUE): it should be off during a multi-domain import '
    + '(carbonio config set global ZxBackup_RealTimeScanner FALSE), and a SmartScan is due once the import is done '
    + '(carbonio backup doSmartScan start)'

/**
 * doExternalRestore: imports a doExport tree into the AppServer over IMAP, account by account: the account is created
 * with backupProvisioningCommand when the server does not have it, then its folders and messages are appended
 * (see importExportedAccount). An account that cannot be created or opened is reported and the others go on; a
 * server-wide failure (unreachable, wrong admin password) stops the operation.
 */
export async function restoreExternal(context: OperationContext, plan: ExternalRestorePlan): Promise<ExternalRestoreReport> {
  const {catalog, progress, server, signal} = context
  const config = await serverConfig(catalog, server)
  const settings = imapSettings(config)
  const realtimeScanner = (config.get('ZxBackup_RealTimeScanner') ?? '').toUpperCase() === 'TRUE'
  const report: ExternalRestoreReport = {
    path: plan.path,
    accounts: [],
    restored: 0,
    skipped: 0,
    unrestored: 0,
    unrestoredMessages: 0,
    left: 0,
    failedAccounts: 0,
    created: 0,
    realtimeScanner,
    warnings: [],
  }
  if (realtimeScanner) {
    // An import is a burst of appends that the scanner would capture as new mail of every account it touches.
    report.warnings.push(REALTIME_SCANNER_WARNING)
    progress({kind: 'warning', message: REALTIME_SCANNER_WARNING})
  }

  const onCounts = () => {
    report.restored = sum(report.accounts, a => a.restored)
    report.skipped = sum(report.accounts, a => a.skipped)
    report.unrestored = sum(report.accounts, a => a.unrestored)
    report.unrestoredMessages = sum(report.accounts, a => a.unrestoredMessages)
    report.left = sum(report.accounts, a => a.left)
    progress({
      kind: 'counters', counters: {
        accounts: report.accounts.length, restored: report.restored, skipped: report.skipped, unrestored: report.unrestored,
      },
    })
  }

  for (const [index, exported] of plan.accounts.entries()) {
    throwIfAborted(signal)
    progress({kind: 'step', account: exported.account, message: `account ${index + 1} of ${plan.accounts.length}`})
    const account: ExternalAccountReport = {
      account: exported.account,
      directory: exported.directory,
      created: false,
      folders: 0,
      restored: 0,
      skipped: 0,
      unrestored: 0,
      unrestoredMessages: 0,
      unrestoredItems: [],
      renamedFolders: [],
      left: 0,
      error: null,
    }
    report.accounts.push(account)
    try {
      const destination = await openDestination(settings, exported.account, {
        provisioningCommand: config.get('backupProvisioningCommand'), progress, signal,
      })
      account.created = destination.created
      try {
        await importExportedAccount(destination.target, exported, {
          progress, report: account, signal, onCounts,
        })
      } finally {
        await destination.target.close()
      }
    } catch (error) {
      if (error instanceof OperationAborted || !(error instanceof UserError) || (error instanceof ImapError && error.scope === 'server')) throw error
      account.error = error.message
      progress({kind: 'warning', account: exported.account, message: `not imported: ${error.message}`})
    }

    if (account.created) report.created++
    if (account.error) report.failedAccounts++
    onCounts()
  }

  return report
}

function sum<T>(list: readonly T[], value: (entry: T) => number): number {
  return list.reduce((total, entry) => total + value(entry), 0)
}
