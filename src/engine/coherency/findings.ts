/**
 * What the coherency check can find. Every kind is counted in full; only the first few of each are kept with
 * their details, so a store with a million broken files still gives a result of bounded size.
 */
export const FINDING_KINDS = [
  // Blob store against blob rows.
  'missingBlobs',
  'corruptBlobs',
  'orphanedFiles',
  'orphanedBlobs',
  'staleTemporaryFiles',
  'unrecordedFiles',
  // Revisions against blob rows.
  'danglingReferences',
  'contentlessRevisions',
  // Validity intervals of item and folder revisions.
  'invertedIntervals',
  'multipleOpenRevisions',
  'overlappingIntervals',
  'noOpenRevision',
] as const

export type FindingKind = (typeof FINDING_KINDS)[number]

/** Why each kind matters, in the words the report prints before its lines. */
export const KIND_TITLES: Record<FindingKind, string> = {
  missingBlobs: 'missing blobs (recorded as stored, no file)',
  corruptBlobs: 'corrupt blobs (content does not gunzip or does not hash to its name)',
  orphanedFiles: 'orphaned files (under items/ but named by no blob row)',
  orphanedBlobs: 'orphaned blobs (a blob row no revision references)',
  staleTemporaryFiles: 'stale temporary files (.tmp-* of a blob write that crashed)',
  unrecordedFiles: 'unrecorded blob files (valid content the catalog says is not in the backup)',
  danglingReferences: 'revisions referencing a blob that has no blob row',
  contentlessRevisions: 'revisions of messages or documents with no content reference and not marked missing',
  invertedIntervals: 'revisions whose validity ends before it starts',
  multipleOpenRevisions: 'items or folders with more than one open revision',
  overlappingIntervals: 'items or folders whose revisions overlap in time',
  noOpenRevision: 'items or folders with no open revision',
}

/** An item that references a blob: who loses content when that blob is gone. */
export interface BlobReference {
  account: string
  item: string
}

export interface Finding {
  /** A file under the backup path, relative to it. */
  path?: string
  digest?: string
  account?: string
  item?: string
  itemType?: string
  folder?: string
  /** Ids of the revision rows concerned (item_revisions or folder_revisions). */
  revisions?: number[]
  /** The first few items whose revisions reference the blob, and how many items in all. */
  references?: BlobReference[]
  referencedItems?: number
  detail: string
  /** What fixBackup did about it (absent without fixBackup). */
  fix?: string
}

export interface FindingList {
  count: number
  first: Finding[]
}

export type Findings = Record<FindingKind, FindingList>

export function emptyFindings(): Findings {
  return Object.fromEntries(FINDING_KINDS.map(kind => [kind, {count: 0, first: []}])) as unknown as Findings
}

/** Counts a finding and keeps it when fewer than `limit` of its kind are kept already. */
export function addFinding(findings: Findings, kind: FindingKind, finding: Finding, limit: number): Finding {
  const list = findings[kind]
  list.count++
  if (list.first.length < limit) list.first.push(finding)
  return finding
}

export function totalProblems(findings: Findings): number {
  let total = 0
  for (const kind of FINDING_KINDS) total += findings[kind].count
  return total
}
