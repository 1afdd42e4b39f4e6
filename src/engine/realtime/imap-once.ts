import type {ImapSettings} from '../appserver/imap/imap-settings.js'
import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'

import {noAccountListed, runAccountsCommand} from '../appserver/imap/accounts-command.js'
import {notBackedUpLine, splitBackedUp} from '../config/backup-enabled.js'
import {scanAccounts} from '../smartscan/scan-accounts.js'

export interface ImapOnceTotals {
  connector: 'imap'
  /** Accounts the accounts command lists, less those not backed up. */
  accounts: number
  /** Accounts listed that backupEnabled false leaves out. */
  notBackedUp: number
  synchronised: number
  failed: Array<{account: string; error: string}>
  foldersRead: number
  revisions: number
}

export interface ImapOnceOptions {
  catalog: Catalog
  server: string
  settings: ImapSettings
  signal: AbortSignal
  progress?: ProgressSink
  /** Accounts synchronised at once (one IMAP connection each). */
  concurrency?: number
}

/**
 * `backup daemon once true` on an IMAP AppServer: the realtime capture's sync cycle once over every account the
 * accounts command lists (LIST-STATUS, then only the folders that changed), then exit: what the daemon would have
 * captured by now. Unlike a SmartScan it is no operation and does not record accounts gone from the directory. A
 * failure of one account is a warning and the others go on; a failure of the server stops at once, in one line.
 */
export async function imapCatchUpOnce(options: ImapOnceOptions): Promise<ImapOnceTotals> {
  const {catalog, server, settings, signal, progress} = options
  const listed = await runAccountsCommand(settings.accountsCommand, signal)
  if (listed.length === 0) throw noAccountListed(settings.accountsCommand)
  const {backedUp: accounts, notBackedUp} = await splitBackedUp(catalog.db, listed)
  if (notBackedUp.size > 0) progress?.({kind: 'step', message: notBackedUpLine(notBackedUp)})
  const totals: ImapOnceTotals = {
    connector: 'imap', accounts: accounts.length, notBackedUp: notBackedUp.size, synchronised: 0, failed: [], foldersRead: 0, revisions: 0,
  }
  await scanAccounts({
    catalog,
    server,
    settings,
    accounts,
    signal,
    concurrency: options.concurrency,
    onScanned(account, outcome) {
      if ('result' in outcome) {
        totals.synchronised++
        totals.foldersRead += outcome.result.foldersRead
        totals.revisions += outcome.result.revisions
        for (const warning of outcome.result.warnings) progress?.({kind: 'warning', account, message: warning})
      } else {
        totals.failed.push({account, error: outcome.error})
        progress?.({kind: 'warning', account, message: outcome.error})
      }

      progress?.({kind: 'step', message: `${totals.synchronised + totals.failed.length} of ${accounts.length} accounts synchronised, ${totals.revisions} revisions`})
    },
  })
  return totals
}
