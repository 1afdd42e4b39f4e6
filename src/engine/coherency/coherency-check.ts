import {availableParallelism} from 'node:os'

import type {OperationContext} from '../operations/run-operation.js'

import {throwIfAborted} from '../errors.js'
import {BlobTrash} from '../purge/blob-trash.js'
import {checkAllBlobs} from './blob-pass.js'
import {
  type CheckedCounts, type CheckRun, emptyChecked, reportCounters, step, throttledStep,
} from './check-run.js'
import {checkStoreFiles} from './file-pass.js'
import {emptyFindings, type Findings, totalProblems} from './findings.js'
import {RecentSet} from './recent-set.js'
import {type FixedCounts, Repairs} from './repairs.js'
import {type AccountRef, checkAccountRevisions} from './revision-pass.js'

export interface CoherencyOptions {
  /** Check only these accounts (their revisions and the blobs those reference); none: the whole backup. */
  accounts?: readonly AccountRef[]
  /** Quarantine bad files and repair the catalog. */
  fixBackup?: boolean
  /** Findings of each kind kept with their details (all are counted). Default 100. */
  limit?: number
  /** Blob files read at once. Default: the cores, between 2 and 4 (gunzip runs on libuv's 4 threads). */
  concurrency?: number
}

export interface CoherencyReport extends Record<string, unknown> {
  /** The accounts checked, or null for the whole backup. */
  accounts: null | string[]
  fixBackup: boolean
  startedAt: string
  /** Problems of every kind, as found (before fixBackup repaired them). */
  problems: number
  coherent: boolean
  checked: CheckedCounts
  /** What this run did not look at, and why. */
  notChecked: string[]
  findings: Findings
  /** What fixBackup did; null without it. */
  fixed: FixedCounts | null
}

const ACCOUNT_PAGE = 200
const RECENT_BLOBS = 200_000

/*
 * What the coherency check holds the backup to, and what fixBackup does about each finding.
 *
 * Blobs (the whole backup only; named accounts: just the stored blobs their revisions reference):
 * - missingBlobs: a row with stored = true and no file. fix: the row becomes stored = false (content not in the
 *   backup); the revisions are history and stay as they are (no content_missing rewrite): the report names the
 *   items that lost content, and a scanner that sees the same content again stores it and sets stored = true.
 * - corruptBlobs: a file that does not gunzip or whose content does not hash to its name. fix: the file goes to
 *   quarantine and the row becomes stored = false, as above. (A flip in the gzip header's MTIME/XFL/OS bytes changes
 *   no content and is not corruption.)
 * - orphanedFiles: anything under items/ no blob row names (a file where a blob would be, older than ten minutes,
 *   or any entry that is not items/<2 hex>/<sha256>). fix: quarantine.
 * - orphanedBlobs: a row no revision references, not referenced for an hour (the purge's grace). fix: the row is
 *   removed and its file, if any, quarantined.
 * - staleTemporaryFiles: a BlobStore.put that crashed: in items/.tmp/, a .tmp-* of a dead process of this host or
 *   older than a day (blob-temporary.ts; the blob store removes these itself when it next writes); in
 *   items/<2 hex>/ (earlier versions), a .tmp-* older than an hour. fix: quarantine.
 * - unrecordedFiles: an exact file whose row says stored = false. fix: the row says stored = true again.
 * Revisions (the scanner's rule, see revision-pass.ts): a blob_digest always has a blob row (stored, or not stored
 * in blobless mode or when the content was gone); a message or document revision without blob_digest is marked
 * content_missing.
 * - danglingReferences: blob_digest without a row. fix: a row with stored = false is added.
 * - contentlessRevisions: a message or document revision with neither. Reported only: history is not rewritten.
 * Validity intervals of item and folder revisions (intervals.ts): inverted, overlapping, more than one open, none
 * open. fix: duplicate open revisions are closed where the next one begins (closing valid_to is the one update
 * history allows); the others are reported only.
 * fixBackup never deletes a file: quarantine/<time of the check>/<path under the backup path> plus manifest.jsonl,
 * 0700/0600. File moves re-check their condition inside a transaction that excludes scanner batches (blob-lock.ts).
 */

/**
 * doCoherencyCheck: proves that what the backup keeps is sound. Reads every revision (validity intervals and what
 * its content reference points at), every blob row and every file under items/ (each stored blob is gunzipped
 * and hashed), or, for named accounts, their revisions and the blobs those reference. Everything is read in pages
 * and directory streams, so memory does not grow with the backup. With fixBackup, files go to quarantine (never
 * deleted) and the catalog is repaired, see repairs.ts.
 */
export async function coherencyCheck(context: OperationContext, options: CoherencyOptions = {}): Promise<CoherencyReport> {
  const startedAt = Date.now()
  const limit = options.limit ?? 100
  const scoped = options.accounts !== undefined && options.accounts.length > 0
  const run: CheckRun = {
    context,
    startedAt,
    limit,
    concurrency: options.concurrency ?? Math.min(4, Math.max(2, availableParallelism())),
    accountIds: scoped ? options.accounts!.map(a => a.key) : null,
    findings: emptyFindings(),
    checked: emptyChecked(),
    repairs: options.fixBackup ? new Repairs(context.catalog, startedAt, limit) : null,
    recentBlobs: scoped ? new RecentSet(RECENT_BLOBS) : null,
    lastStepAt: 0,
  }
  const notChecked: string[] = []
  // A purge killed between moving blob files aside and committing leaves them in its trash, still named by the
  // catalog: put back first (as the next purge would), or this check would call them missing, and fixBackup would
  // mark their content as not stored. No purge runs meanwhile: one operation runs at a time.
  const recovered = await new BlobTrash(context.catalog.home).recover(context.catalog.db)
  if (recovered.restored + recovered.removed > 0) {
    context.progress({kind: 'warning', message: `an earlier purge stopped while removing blobs: ${recovered.restored} put back, ${recovered.removed} removed`})
  }

  if (scoped) {
    step(run, `checking ${options.accounts!.length} account(s): revisions, and the blobs they reference`)
    for (const [index, account] of options.accounts!.entries()) await checkAccount(run, account, index, options.accounts!.length)
    notChecked.push('orphaned files, orphaned blob rows and temporary files: they belong to no account, so only a check of the whole backup looks for them')
  } else {
    const [{n: total}] = await context.catalog.db('accounts').count({n: '*'})
    step(run, `checking the revisions of every account (${total})`)
    let after = 0
    let index = 0
    for (;;) {
      throwIfAborted(context.signal)
      const accounts: Array<{id: number; name: string}> = await context.catalog.db('accounts').where('id', '>', after).orderBy('id').limit(ACCOUNT_PAGE).select('id', 'name')
      if (accounts.length === 0) break
      after = Number(accounts.at(-1)!.id)
      for (const account of accounts) await checkAccount(run, {key: Number(account.id), name: account.name}, index++, Number(total))
    }

    step(run, 'checking every blob row and reading back every stored blob')
    await checkAllBlobs(run)
    step(run, 'checking every file under items/')
    await checkStoreFiles(run)
  }

  reportCounters(run)
  const problems = totalProblems(run.findings)
  step(run, problems === 0 ? 'the backup is coherent' : `${problems} problem(s) found${run.repairs ? ', repaired where possible' : ''}`)
  return {
    accounts: scoped ? options.accounts!.map(a => a.name) : null,
    fixBackup: run.repairs !== null,
    startedAt: new Date(startedAt).toISOString(),
    problems,
    coherent: problems === 0,
    checked: run.checked,
    notChecked,
    findings: run.findings,
    fixed: run.repairs ? {...run.repairs.fixed, quarantine: run.repairs.quarantine.location} : null,
  }
}

async function checkAccount(run: CheckRun, account: AccountRef, index: number, total: number): Promise<void> {
  throwIfAborted(run.context.signal)
  // The first and the last account always get a line; those between, one every few seconds.
  throttledStep(run, `revisions (account ${index + 1} of ${total})`, account.name, index === 0 || index >= total - 1)
  await checkAccountRevisions(run, account)
  run.checked.accounts++
}
