import type {Catalog} from '../catalog/catalog.js'
import type {OperationContext} from '../operations/run-operation.js'

import {domainsOf, noAccountListed, runAccountsCommand} from '../appserver/imap/accounts-command.js'
import {IMAP_CONNECTOR} from '../appserver/imap/imap-identity.js'
import {EMPTY_POSITION} from '../appserver/imap/imap-position.js'
import {imapSettings, readPassword} from '../appserver/imap/imap-settings.js'
import {checkBackedUp, notBackedUpLine, splitBackedUp} from '../config/backup-enabled.js'
import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {loadCheckpoint} from '../scanner/checkpoints.js'
import {blobStoreFor} from '../scanner/realtime-scanner.js'
import {TransactionApplier} from '../scanner/transaction-applier.js'
import {type AccountScanResult} from './account-scan.js'
import {scanAccounts} from './scan-accounts.js'
import {SCAN_TOTALS, ScanProgress, type ScanTotals} from './scan-progress.js'

export interface SmartScanRequest {
  /** Re-read every folder and message and verify every digest. */
  deep?: boolean
  /** doAccountScan: this account only; otherwise every account the directory command lists. */
  account?: string
  /** Accounts scanned at once (one IMAP connection each). */
  concurrency?: number
  /** Told the verb of every IMAP command sent: tests count them. */
  onCommand?: (account: string, command: string) => void
  /** How often an account still being scanned says how far it is (ScanProgress); 10 s unless set. */
  progressEvery?: number
}

export interface SmartScanReport extends Record<string, unknown> {
  deep: boolean
  /** Accounts to scan: the directory command's list, or the one account, less those not backed up. */
  accounts: number
  /** Accounts the directory lists that backupEnabled false leaves out, with the level that says so. */
  notBackedUp: Array<{account: string; by: string}>
  scanned: number
  failed: Array<{account: string; error: string}>
  /** Accounts the backup had from this server that the directory no longer lists: recorded as deleted. */
  deletedAccounts: string[]
  domains: string[]
  totals: ScanTotals
  perAccount: Array<Omit<AccountScanResult, 'warnings'>>
}

/**
 * Checks, before an operation is created for it, that a SmartScan can start: the AppServer is configured and the
 * password file is readable by its owner only (and, for every account, the directory command is set).
 */
export async function checkSmartScan(catalog: Catalog, server: string, request: Pick<SmartScanRequest, 'account'> = {}): Promise<void> {
  const settings = imapSettings(await serverConfig(catalog, server))
  await readPassword(settings)
  if (!request.account && !settings.accountsCommand) await runAccountsCommand(null)
}

/**
 * SmartScan (`doSmartScan`, `doAccountScan`): brings the backup of every account (or one) to what the IMAP
 * AppServer has, reading only folders whose status changed since the last scan (deep: everything, digests
 * verified). Accounts go a few at a time, one progress line each. A problem with one account (it cannot be opened,
 * a mailbox cannot be read) is a warning and the others go on; the operation then fails naming it. A problem with
 * the server itself (unreachable, the admin login refused, no QRESYNC) stops the scan at once with that one line.
 */
export async function smartScan(context: OperationContext, request: SmartScanRequest = {}): Promise<SmartScanReport> {
  const {catalog, progress, server} = context
  const config = await serverConfig(catalog, server)
  const settings = imapSettings(config)
  const deep = request.deep ?? false
  const listed = request.account ? [request.account.toLowerCase()] : await runAccountsCommand(settings.accountsCommand, context.signal)
  // A command that exits 0 listing no account is broken, as the daemon and 'daemon once' take it: a scheduled SmartScan
  // otherwise succeeded every night having scanned nothing, with only a warning in its record.
  if (listed.length === 0) throw noAccountListed(settings.accountsCommand)
  if (request.account) await checkBackedUp(catalog.db, listed[0])
  const {backedUp: accounts, notBackedUp} = await splitBackedUp(catalog.db, listed)
  const report: SmartScanReport = {
    deep,
    accounts: accounts.length,
    notBackedUp: [...notBackedUp].map(([account, by]) => ({account, by})),
    scanned: 0,
    failed: [],
    deletedAccounts: [],
    domains: domainsOf(listed),
    totals: Object.fromEntries(SCAN_TOTALS.map(key => [key, 0])) as ScanTotals,
    perAccount: [],
  }
  if (!request.account) progress({kind: 'step', message: `${accounts.length} account${accounts.length === 1 ? '' : 's'} to scan${deep ? ' (deep)' : ''}`})
  if (notBackedUp.size > 0) progress({kind: 'step', message: notBackedUpLine(notBackedUp)})
  const live = new ScanProgress(progress, request.progressEvery)
  const finished = () => ({
    accounts: accounts.length, scanned: report.scanned, failed: report.failed.length, totals: report.totals,
  })
  try {
    await scanAccounts({
      catalog,
      server,
      settings,
      accounts,
      deep,
      signal: context.signal,
      concurrency: request.concurrency,
      onCommand: request.onCommand,
      onAdvanced(account, stats) {
        live.advanced(account, stats, finished())
      },
      onScanned(account, outcome) {
        live.ended(account)
        if ('result' in outcome) {
          record(report, outcome.result)
          for (const warning of outcome.result.warnings) progress({kind: 'warning', account, message: warning})
          progress({kind: 'step', account, message: summary(outcome.result)})
        } else {
          report.failed.push({account, error: outcome.error})
          progress({kind: 'warning', account, message: outcome.error})
          progress({kind: 'step', account, message: `not scanned: ${outcome.error}`})
        }

        progress({kind: 'counters', counters: live.counters(finished())})
      },
    })
  } finally {
    // Stopped, interrupted or failed with accounts still running: the operation keeps these last counters, which
    // must not show those accounts running for ever, nor count as done what they had read and not yet committed.
    live.stopped()
    progress({kind: 'counters', counters: live.counters(finished())})
  }

  // The directory still lists the accounts left out: they are not deleted.
  if (!request.account) report.deletedAccounts = await recordDeletedAccounts(context, listed, report.failed.length)
  for (const account of report.deletedAccounts) progress({kind: 'step', account, message: 'no longer on the server: recorded as deleted'})
  if (report.failed.length > 0) {
    const first = report.failed[0]
    throw new UserError(`${report.failed.length} of ${accounts.length} account${accounts.length === 1 ? '' : 's'} could not be scanned; ${first.account}: ${first.error}`)
  }

  return report
}

function record(report: SmartScanReport, result: AccountScanResult): void {
  report.scanned++
  for (const key of SCAN_TOTALS) report.totals[key] += result[key]
  const rest: Partial<AccountScanResult> = {...result}
  delete rest.warnings
  report.perAccount.push(rest as Omit<AccountScanResult, 'warnings'>)
}

/** One progress line per account: what the scan found, or that nothing changed. */
export function summary(result: AccountScanResult): string {
  const parts: string[] = []
  const add = (count: number, one: string, many = `${one}s`) => {
    if (count > 0) parts.push(`${count} ${count === 1 ? one : many}`)
  }

  if (result.accountCreated) parts.push('new account')
  add(result.foldersCreated, 'new folder')
  add(result.foldersRenamed, 'folder renamed', 'folders renamed')
  add(result.foldersDeleted, 'folder deleted', 'folders deleted')
  add(result.created, 'new message')
  add(result.moved, 'message moved', 'messages moved')
  add(result.flagsChanged, 'flag change')
  add(result.deleted, 'message deleted', 'messages deleted')
  add(result.verified, 'digest verified', 'digests verified')
  add(result.repaired, 'content repaired', 'contents repaired')
  const read = `${result.folders} folder${result.folders === 1 ? '' : 's'}, ${result.foldersRead} read`
  return `${read}: ${parts.length > 0 ? parts.join(', ') : 'no change'} (${result.ms} ms)`
}

/**
 * Accounts this connector backed up that the directory no longer lists are recorded as deleted (their history stays
 * until account retention ends). An empty list is taken for a broken directory command, never for "everyone left";
 * so is a list holding an account the server could not open: a command that exits 0 but prints a warning, or an error
 * of its directory, instead of the accounts would otherwise record every real account as deleted, and purge them once
 * retention ends. The deletions are recorded by the next scan whose every listed account opens.
 */
async function recordDeletedAccounts(context: OperationContext, listed: string[], failed: number): Promise<string[]> {
  if (listed.length === 0) {
    context.progress({kind: 'warning', message: 'the accounts command listed no account: no account is recorded as deleted'})
    return []
  }

  if (failed > 0) {
    context.progress({kind: 'warning', message: `${failed} listed account${failed === 1 ? '' : 's'} could not be scanned, so the list may be wrong: no account is recorded as deleted`})
    return []
  }

  const {catalog, server} = context
  const present = new Set(listed)
  // This server's accounts, and those no server claimed yet when no other server has claimed any (a catalog of one
  // server, or written before accounts were claimed): on a shared catalog another server's are not ours to judge.
  const othersClaimed = await catalog.db('accounts').whereNotNull('server').whereNot('server', server).first('id')
  const rows: Array<{name: string}> = await catalog.db('checkpoints as c')
  .join('accounts as a', 'a.name', 'c.scope')
  .where('c.connector', IMAP_CONNECTOR)
  .whereNull('a.deleted_at')
  .andWhere(q => (othersClaimed ? q.where('a.server', server) : q.where('a.server', server).orWhereNull('a.server')))
  .select('a.name')
  const gone = rows.map(row => row.name).filter(name => !present.has(name)).sort()
  if (gone.length === 0) return []
  const blobs = await blobStoreFor(catalog, server)
  for (const account of gone) {
    const feed = {connector: IMAP_CONNECTOR, scope: account, resolveContentPath: (p: string) => p}
    const from = await loadCheckpoint(catalog, IMAP_CONNECTOR, account)
    const applier = new TransactionApplier({
      catalog, blobs, feed, blobless: () => false,
    }, from)
    await applier.apply([{
      kind: 'transaction',
      position: EMPTY_POSITION,
      transaction: {
        op: 'account.deleted', data: {}, seq: 0, time: Date.now(), account, origin: {source: 'imap directory'},
      },
    }])
  }

  return gone
}
