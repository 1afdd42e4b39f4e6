/** What a purge did: the operation's result and the `--json` payload of doPurge. */
export interface PurgeReport extends Record<string, unknown> {
  /** The backup path purged (its catalog and blob store). */
  backupPath: string
  /** Item retention in force (0 = infinite) and where it came from. */
  retentionDays: number
  retentionSource: 'purgeDays' | 'ZxBackup_DataRetentionDays'
  accountRetentionDays: number
  /** Items deleted before this moment were removed; null when items were kept. */
  cutoff: null | string
  /** Accounts deleted before this moment were removed; null when accounts were kept. */
  accountCutoff: null | string
  /** Why the purge ended at once, or null. */
  skipped: null | string
  items: number
  revisions: number
  accounts: number
  blobs: number
  /** Bytes of blob files removed from the backup path. */
  bytesFreed: number
  /** Deleted items past retention kept because their account is under legal hold. */
  itemsHeld: number
  /** Deleted accounts past retention kept because they are under legal hold. */
  accountsHeld: number
  /** Blobs left for the next purge: referenced too recently, or being referenced by a scanner batch right now. */
  blobsDeferred: number
}

export function emptyReport(backupPath: string): PurgeReport {
  return {
    backupPath,
    retentionDays: 0,
    retentionSource: 'ZxBackup_DataRetentionDays',
    accountRetentionDays: 0,
    cutoff: null,
    accountCutoff: null,
    skipped: null,
    items: 0,
    revisions: 0,
    accounts: 0,
    blobs: 0,
    bytesFreed: 0,
    itemsHeld: 0,
    accountsHeld: 0,
    blobsDeferred: 0,
  }
}

/** The counters monitor shows while the purge runs. */
export function countersOf(report: PurgeReport): Record<string, number> {
  return {
    items: report.items,
    revisions: report.revisions,
    accounts: report.accounts,
    blobs: report.blobs,
    bytesFreed: report.bytesFreed,
    itemsHeld: report.itemsHeld,
    blobsDeferred: report.blobsDeferred,
  }
}
