import {randomBytes} from 'node:crypto'
import {rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'

import type {OperationContext} from '../operations/run-operation.js'

import {imapConfigured, imapSettings} from '../appserver/imap/imap-settings.js'
import {BlobStore} from '../blobstore/blob-store.js'
import {serverConfig} from '../config/config-store.js'
import {throwIfAborted} from '../errors.js'
import {certaintyOf} from '../history/account-certainty-view.js'
import {ContentSource} from '../restore/content-source.js'
import {canScanFirst, checkSource} from '../restore/source-check.js'
import {type AccountExportResult, exportAccount, type ExportTotals} from './account-export.js'
import {checkTarget, type ExportPlan} from './export-plan.js'
import {mkdirPrivate} from './private-files.js'
import {exportTargetFailure} from './target-failure.js'

export interface ExportedAccount extends AccountExportResult {
  /** The account's export directory. */
  directory: string
}

export interface ExportReport extends Record<string, unknown> {
  target: string
  pointInTime: string
  exportedAt: string
  accounts: ExportedAccount[]
  totals: ExportTotals
  /** Accounts whose history is uncertain: a SmartScan is required before the export can be trusted. */
  uncertainAccounts: Array<{account: string; reason: null | string; warning: string}>
  /** Accounts that were uncertain and got an account SmartScan before their export. */
  scannedFirst: string[]
}

/**
 * The doExport operation: each planned account is written into a hidden staging directory next to its final one
 * and renamed into place only when complete, so a stop, a crash or a full disk never leaves a half-exported account
 * under its real name (with `force true`, the previous export of the account is replaced only then).
 */
export async function exportAccounts(context: OperationContext, plan: ExportPlan): Promise<ExportReport> {
  const {catalog, progress, signal} = context
  // Checked again: the operation may have waited in the queue while someone wrote into the target.
  await checkTarget(plan.target, plan.force)
  await mkdirPrivate(plan.target).catch(error => {
    throw exportTargetFailure(error, plan.target, 0) ?? error
  })
  const blobs = new BlobStore(catalog.home)
  const config = await serverConfig(catalog, context.server)
  // Content a blobless backup does not hold is read from the AppServer, when one is configured.
  const settings = imapConfigured(config) ? imapSettings(config) : null
  const exportedAt = Date.now()
  const totals: ExportTotals = {
    accounts: 0, items: 0, messages: 0, bytes: 0, missingContent: 0,
  }
  const report: ExportReport = {
    target: plan.target,
    pointInTime: plan.requested,
    exportedAt: new Date(exportedAt).toISOString(),
    accounts: [],
    totals,
    uncertainAccounts: [],
    scannedFirst: [],
  }
  // Without an IMAP AppServer there is nothing to scan with: the export itself warns of each uncertain account.
  // A certain one is checked all the same: the check warns when the Realtime Scanner is not following it now.
  const scanning = await canScanFirst(context)
  for (const [index, planned] of plan.accounts.entries()) {
    throwIfAborted(signal)
    progress({kind: 'step', account: planned.label, message: `account ${index + 1} of ${plan.accounts.length}`})
    if (scanning || (await certaintyOf(catalog.db, planned.account.key)).certain) {
      const check = await checkSource(context, planned.account, 'exporting')
      if (check.scanned) report.scannedFirst.push(planned.label)
    }

    const name = accountDirectoryName(planned.label)
    const final = path.join(plan.target, name)
    const staging = path.join(plan.target, `.${name}.export-${randomBytes(4).toString('hex')}`)
    const content = new ContentSource(catalog, {account: planned.account.name, settings, signal})
    try {
      const result = await exportAccount({
        catalog,
        blobs,
        content,
        account: planned.account,
        label: planned.label,
        at: planned.at,
        requested: plan.requested,
        exportedAt,
        directory: staging,
        signal,
        progress,
        totals,
      })
      await replaceDirectory(staging, final)
      totals.accounts++
      report.accounts.push({...result, directory: final})
      if (result.warning) report.uncertainAccounts.push({account: result.account, reason: result.uncertainReason, warning: result.warning})
      progress({kind: 'step', account: planned.label, message: `${result.items} items, ${result.messages} messages, ${result.missingContent} without content`})
      progress({kind: 'counters', counters: {...totals}})
    } catch (error) {
      throw exportTargetFailure(error, plan.target, report.accounts.length) ?? error
    } finally {
      await content.close()
      await rm(staging, {recursive: true, force: true})
    }
  }

  return report
}

/** Moves a finished staging directory to its final name, replacing (only now) what was there. */
async function replaceDirectory(staging: string, final: string): Promise<void> {
  let exists = true
  try {
    await stat(final)
  } catch {
    exists = false
  }

  if (!exists) {
    await rename(staging, final)
    return
  }

  const old = `${path.join(path.dirname(final), `.${path.basename(final)}`)}.old-${randomBytes(4).toString('hex')}`
  await rename(final, old)
  await rename(staging, final)
  await rm(old, {recursive: true, force: true})
}

/** An address as a directory name: kept readable, with only what a file name cannot hold percent-encoded. */
export function accountDirectoryName(address: string): string {
  return address.replaceAll('%', '%25').replaceAll('/', '%2F').replaceAll('\0', '%00').replace(/^\./, '%2E')
}
