/**
 * One state of an item as the history readers return it: a revision row of the catalog, decoded (JSON columns
 * parsed, booleans and BIGINTs normalised across SQLite and PostgreSQL), with whether its content is in the backup.
 */
export interface ItemRevision {
  validFrom: number
  /** null while the state is current. */
  validTo: null | number
  operation: string
  folder: null | string
  flags: string[]
  tags: string[]
  metadata: Record<string, unknown>
  blobDigest: null | string
  size: null | number
  /** Where the AppServer kept the content then: `imap:<UIDVALIDITY>/<UID>` in its folder, a redolog store path. */
  locator: null | string
  /** The content could not be read from the AppServer, or was not what the transaction announced. */
  contentMissing: boolean
  /** The content is in the backup's blob store (false in blobless mode or when missing). */
  contentStored: boolean
  deleted: boolean
  /** The transaction (redolog seq) that produced this state. */
  seq: null | number
}

export interface RevisionRow {
  valid_from: number
  valid_to: null | number
  operation: string
  folder_remote_id: null | string
  flags: string
  tags: string
  metadata: string
  blob_digest: null | string
  size: null | number
  locator: null | string
  content_missing: boolean | number
  deleted: boolean | number
  txn_seq: null | number
  blob_stored: boolean | null | number
}

/** Columns for a query over `item_revisions as r` left-joined with `blobs as b` on the digest. */
export const REVISION_COLUMNS = [
  'r.valid_from',
  'r.valid_to',
  'r.operation',
  'r.folder_remote_id',
  'r.flags',
  'r.tags',
  'r.metadata',
  'r.blob_digest',
  'r.size',
  'r.locator',
  'r.content_missing',
  'r.deleted',
  'r.txn_seq',
  'b.stored as blob_stored',
]

export function revisionFromRow(row: RevisionRow): ItemRevision {
  const contentMissing = Boolean(row.content_missing)
  return {
    validFrom: Number(row.valid_from),
    validTo: row.valid_to === null ? null : Number(row.valid_to),
    operation: row.operation,
    folder: row.folder_remote_id,
    flags: JSON.parse(row.flags),
    tags: JSON.parse(row.tags),
    metadata: JSON.parse(row.metadata),
    blobDigest: row.blob_digest,
    size: row.size === null ? null : Number(row.size),
    locator: row.locator,
    contentMissing,
    contentStored: !contentMissing && Boolean(row.blob_stored),
    deleted: Boolean(row.deleted),
    seq: row.txn_seq === null ? null : Number(row.txn_seq),
  }
}

/** Why an item state's content cannot be read from the backup, or undefined when it can. */
export function contentUnavailableReason(revision: ItemRevision): string | undefined {
  if (revision.contentMissing) return 'its content was gone on the AppServer (or not what the transaction announced) when the scanner read it'
  if (revision.blobDigest === null) return 'the item has no content'

  // A blob row says "not stored" after blobless mode, and also after doCoherencyCheck fixBackup found its file
  // missing or corrupt: blaming blobless mode alone sent an administrator with blobless mode off looking elsewhere.
  if (!revision.contentStored) {
    return 'its content is not in the backup (blobless mode kept only the reference, or doCoherencyCheck fixBackup found its file missing or corrupt: see quarantine/)'
  }

  return undefined
}
