/**
 * In-memory states of a batch, before they become append-only revision rows. A "version" is what a revision
 * row will hold; a "state" is one item (or folder) with the versions this batch adds to it.
 */

export interface ItemVersion {
  validFrom: number
  operation: string
  folder: null | string
  flags: string[]
  tags: string[]
  metadata: Record<string, unknown>
  /**
   * The JSON text `metadata` was read from, while it is that very object: most new revisions (flags, moves) keep the
   * metadata as it was, and serialising it again for each of them was a visible share of the scanner's time.
   */
  metadataText?: string
  blobDigest: null | string
  size: null | number
  locator: null | string
  contentMissing: boolean
  deleted: boolean
  txnSeq: null | number
}

export interface ItemState {
  accountId: number
  remoteId: string
  type: string
  /** null until the item's identity row is inserted at flush. */
  itemId: null | number
  /** The catalog holds an open revision (valid_to NULL) that the first new version must close. */
  openInDb: boolean
  /**
   * The catalog's open revision is a deletion that never was (the first half of a MOVE, see Batch.undoDeletion):
   * flush removes it instead of closing it, and the first new version starts where it started.
   */
  dropsOpenDeletion?: boolean
  /** The newest state: from the catalog, or the last of `pending`. */
  current: ItemVersion | null
  pending: ItemVersion[]
}

export interface FolderVersion {
  validFrom: number
  operation: string
  path: string
  parent: null | string
  view: null | string
  deleted: boolean
  metadata: Record<string, unknown>
  txnSeq: null | number
}

export function itemKey(accountId: number, remoteId: string): string {
  return `${accountId}\u0000${remoteId}`
}

/** A new version of an item: the previous state with changes, starting no earlier than the previous one. */
export function nextVersion(
  current: ItemVersion | null,
  time: number,
  operation: string,
  changes: Partial<ItemVersion>,
  txnSeq: null | number,
): ItemVersion {
  const base: ItemVersion = current ?? {
    validFrom: time,
    operation,
    folder: null,
    flags: [],
    tags: [],
    metadata: {},
    blobDigest: null,
    size: null,
    locator: null,
    contentMissing: false,
    deleted: false,
    txnSeq,
  }
  // A server clock that stepped back must not produce a revision that starts before its predecessor: the
  // intervals of one item stay ordered and never overlap.
  const validFrom = current ? Math.max(time, current.validFrom) : time
  const version: ItemVersion = {
    ...base, deleted: false, ...changes, validFrom, operation, txnSeq,
  }
  // The text goes along only with the object it was made from (versions are never mutated).
  version.metadataText = version.metadata === base.metadata ? base.metadataText : undefined
  return version
}

export function sortedSet(values: readonly string[] | undefined): string[] {
  return [...new Set(values ?? [])].sort()
}
