import type {OperationContext} from '../operations/run-operation.js'
import type {RecentSet} from './recent-set.js'
import type {Repairs} from './repairs.js'

import {
  addFinding, type Finding, type FindingKind, type Findings, totalProblems,
} from './findings.js'

/** What was read, for the report and the operation's progress counters. */
export interface CheckedCounts {
  accounts: number
  items: number
  itemRevisions: number
  folders: number
  folderRevisions: number
  /** Blob files read back and hashed, their bytes on disk and the content bytes they gave. */
  blobsVerified: number
  storedBytes: number
  contentBytes: number
  /** Blob rows looked at (stored or not). */
  blobRows: number
  /** Entries seen under items/. */
  files: number
  /** Files without a row and unreferenced rows too recent to judge: a scanner batch may be adding them. */
  recentNotJudged: number
  /** Unreferenced blob rows a purge noted for removal and has not removed yet (stopped before its blob phase). */
  awaitingPurge: number
}

/** One coherency check in progress: what every pass reads and adds to. */
export interface CheckRun {
  readonly context: OperationContext
  readonly startedAt: number
  /** Findings kept with their details, per kind. */
  readonly limit: number
  /** Blob files read at once. */
  readonly concurrency: number
  /** Catalog ids of the named accounts; null for the whole backup. */
  readonly accountIds: null | number[]
  readonly findings: Findings
  readonly checked: CheckedCounts
  /** null without fixBackup. */
  readonly repairs: null | Repairs
  /** Named accounts only: blobs verified lately, so a blob their items share is read once. */
  readonly recentBlobs: null | RecentSet
  lastStepAt: number
}

export function emptyChecked(): CheckedCounts {
  return {
    accounts: 0,
    items: 0,
    itemRevisions: 0,
    folders: 0,
    folderRevisions: 0,
    blobsVerified: 0,
    storedBytes: 0,
    contentBytes: 0,
    blobRows: 0,
    files: 0,
    recentNotJudged: 0,
    awaitingPurge: 0,
  }
}

export function found(run: CheckRun, kind: FindingKind, finding: Finding): Finding {
  return addFinding(run.findings, kind, finding, run.limit)
}

export function reportCounters(run: CheckRun): void {
  run.context.progress({kind: 'counters', counters: {...run.checked, problems: totalProblems(run.findings)}})
}

const STEP_INTERVAL_MS = 2000

/**
 * A progress line at most every two seconds (or when forced): a backup of thousands of accounts must not print
 * thousands of lines where no terminal redraws them.
 */
export function throttledStep(run: CheckRun, message: string, account?: string, force = false): void {
  const now = Date.now()
  if (!force && now - run.lastStepAt < STEP_INTERVAL_MS) return
  run.lastStepAt = now
  run.context.progress({kind: 'step', ...(account ? {account} : {}), message})
}

export function step(run: CheckRun, message: string): void {
  run.lastStepAt = Date.now()
  run.context.progress({kind: 'step', message})
}

export function isoTime(ms: null | number): string {
  return ms === null ? 'open' : new Date(ms).toISOString()
}
