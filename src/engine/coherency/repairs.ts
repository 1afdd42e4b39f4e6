import type {Knex} from 'knex'

import {lstat} from 'node:fs/promises'
import path from 'node:path'

import type {Catalog} from '../catalog/catalog.js'
import type {BlobReference, Finding, FindingKind} from './findings.js'

import {blobPath} from '../blobstore/blob-path.js'
import {withRetry, writeTransaction} from '../catalog/write-transaction.js'
import {withBlobsLocked} from './blob-lock.js'
import {closingsFor} from './intervals.js'
import {type MovedFile, Quarantine} from './quarantine.js'

/**
 * A repair of the blob store or of the blob rows, decided by a pass and applied later in one locked batch. Each
 * one re-checks its condition under the lock: the backup keeps running while the check does.
 */
export type BlobRepair
  /** Content gone (missing file) or unreadable (corrupt file, quarantined first): the row says "not stored". */
  = | {type: 'notStored'; kind: 'corruptBlobs' | 'missingBlobs'; digest: string; lost: LostContent; finding: Finding}
    /** No revision references the row, nor did one since `unreferencedSince`: the row goes, its file is quarantined. */
    | {type: 'removeRow'; digest: string; unreferencedSince: number; finding: Finding}
    /** A file no row names, a stale temporary file, a corrupt file of a row already "not stored". */
    | {type: 'quarantine'; kind: FindingKind; relative: string; digest?: string; unnamedOnly: boolean; finding: Finding}
    /** A valid file the row says is not stored: the row says "stored" again. */
    | {type: 'markStored'; digest: string; storedSize: number; finding: Finding}
    /** Revisions name a blob that has no row: a "not stored" row makes the reference valid again. */
    | {type: 'addRow'; digest: string; size: number; finding: Finding}

/** Every item (of any account) that references a blob whose content is lost: the first few, and how many. */
export interface LostContent {
  references: BlobReference[]
  referencedItems: number
}

export interface FixedCounts {
  /** The run's quarantine directory, relative to the backup path (null when nothing was moved). */
  quarantine: null | string
  filesQuarantined: number
  blobsMarkedNotStored: number
  blobsMarkedStored: number
  blobRowsRemoved: number
  blobRowsAdded: number
  revisionsClosed: number
  /** Items whose content is no longer in the backup because a blob was found missing or corrupt. */
  itemsThatLostContent: {count: number; first: Array<BlobReference & {digest: string}>}
  /** Repairs that could not be made (a file that could not be moved, ...), each said in its finding's fix. */
  failures: number
}

/**
 * fixBackup: moves files into quarantine (never deletes them) and repairs the catalog. Revisions are history and
 * stay as they are, except that a duplicate open revision gets the valid_to the scanner should have given it.
 */
export class Repairs {
  readonly quarantine: Quarantine
  readonly fixed: FixedCounts = {
    quarantine: null,
    filesQuarantined: 0,
    blobsMarkedNotStored: 0,
    blobsMarkedStored: 0,
    blobRowsRemoved: 0,
    blobRowsAdded: 0,
    revisionsClosed: 0,
    itemsThatLostContent: {count: 0, first: []},
    failures: 0,
  }

  constructor(
    private readonly catalog: Catalog,
    startedAt: number,
    private readonly limit: number,
  ) {
    this.quarantine = new Quarantine(catalog.home, startedAt)
  }

  /** Applies repairs in one transaction under the blob lock; files moved are put back if it does not commit. */
  async applyBlobRepairs(repairs: BlobRepair[]): Promise<void> {
    if (repairs.length === 0) return
    const moved: MovedFile[] = []
    try {
      await withBlobsLocked(this.catalog, async trx => {
        for (const repair of repairs) {
          try {
            await this.apply(trx, repair, moved)
          } catch (error) {
            // A file that cannot be moved must not stop the other repairs; a catalog error ends the batch.
            if (!isFileSystemError(error)) throw error
            repair.finding.fix = `not repaired: ${(error as Error).message}`
            this.fixed.failures++
          }
        }
      })
    } catch (error) {
      for (const file of moved.reverse()) {
        await this.quarantine.restore(file, `the catalog repair did not commit: ${(error as Error).message}`).catch(() => {})
      }

      throw error
    }

    this.fixed.quarantine = this.quarantine.location
  }

  /** Closes every open revision of an item or folder but the latest, where the revision after it begins. */
  async closeDuplicateOpen(table: 'folder_revisions' | 'item_revisions', owner: 'folder_id' | 'item_id', ownerId: number, finding: Finding): Promise<void> {
    // Reads then writes: on SQLite only a transaction that takes the write lock first survives a busy daemon.
    const closed = await withRetry(() => writeTransaction(this.catalog, async trx => {
      const rows: Array<{id: number; valid_from: number; valid_to: null | number}> = await trx(table)
      .where(owner, ownerId)
      .orderBy([{column: 'valid_from'}, {column: 'id'}])
      .select('id', 'valid_from', 'valid_to')
      const spans = rows.map(r => ({id: Number(r.id), validFrom: Number(r.valid_from), validTo: r.valid_to === null ? null : Number(r.valid_to)}))
      let count = 0
      for (const closing of closingsFor(spans)) {
        // Only an open revision is ever touched, and only its valid_to: the one update history allows.
        count += await trx(table).where({id: closing.id}).whereNull('valid_to').update({valid_to: closing.validTo})
      }

      return count
    }))
    this.fixed.revisionsClosed += closed
    finding.fix = `closed ${closed} open revision${closed === 1 ? '' : 's'} where the next revision begins`
  }

  private async apply(trx: Knex.Transaction, repair: BlobRepair, moved: MovedFile[]): Promise<void> {
    const {finding} = repair
    switch (repair.type) {
    case 'markStored': {
      const changed = await trx('blobs').where({digest: repair.digest, stored: false}).update({stored: true, stored_size: repair.storedSize})
      this.fixed.blobsMarkedStored += changed
      finding.fix = changed > 0 ? 'blob row marked stored' : 'left as is: the row changed since the check read it'
      return
    }

    case 'notStored': {
      const relative = relativeBlobPath(repair.digest)
      if (repair.kind === 'missingBlobs' && await exists(path.join(this.catalog.home, relative))) {
        finding.fix = 'left as is: the file is there again'
        return
      }

      if (repair.kind === 'corruptBlobs') moved.push(await this.move(relative, repair.kind, finding, repair.digest))
      const changed = await trx('blobs').where({digest: repair.digest, stored: true}).update({stored: false, stored_size: null})
      this.fixed.blobsMarkedNotStored += changed
      this.noteLostContent(repair.digest, repair.lost)
      finding.fix = `${repair.kind === 'corruptBlobs' ? `moved to ${path.relative(this.catalog.home, moved.at(-1)!.to)}; ` : ''}`
        + `blob row marked not stored: ${repair.lost.referencedItems} item(s) have no content in the backup until it is seen again`
      return
    }

    case 'quarantine': {
      if (repair.unnamedOnly && repair.digest && await trx('blobs').where('digest', repair.digest).first('digest')) {
        finding.fix = 'left as is: a blob row names it now'
        return
      }

      const file = await this.move(repair.relative, repair.kind, finding, repair.digest)
      moved.push(file)
      finding.fix = `moved to ${path.relative(this.catalog.home, file.to)}`
      return
    }

    case 'removeRow': {
      const referenced = await trx('item_revisions').where('blob_digest', repair.digest).first('id')
      const row = await trx('blobs').where('digest', repair.digest).first('last_referenced_at')
      if (referenced || !row || Number(row.last_referenced_at) >= repair.unreferencedSince) {
        finding.fix = 'left as is: referenced again since the check read it'
        return
      }

      await trx('blobs').where('digest', repair.digest).delete()
      this.fixed.blobRowsRemoved++
      const relative = relativeBlobPath(repair.digest)
      // Moved inside the transaction: a scanner that references the content next finds no file and stores it again.
      if (await exists(path.join(this.catalog.home, relative))) {
        const file = await this.move(relative, 'orphanedBlobs', finding, repair.digest)
        moved.push(file)
        finding.fix = `blob row removed; file moved to ${path.relative(this.catalog.home, file.to)}`
      } else {
        finding.fix = 'blob row removed'
      }

      return
    }

    case 'addRow': {
      if (await trx('blobs').where('digest', repair.digest).first('digest')) {
        finding.fix = 'left as is: the blob row exists now'
        return
      }

      const now = Date.now()
      await trx('blobs').insert({
        digest: repair.digest, size: repair.size, stored_size: null, stored: false, created_at: now, last_referenced_at: now,
      })
      this.fixed.blobRowsAdded++
      finding.fix = 'blob row added as not stored: the revisions keep their digest, the content is not in the backup'
    }
    }
  }

  private async move(relative: string, kind: FindingKind, finding: Finding, digest?: string): Promise<MovedFile> {
    const file = await this.quarantine.move(relative, kind, finding.detail, digest)
    this.fixed.filesQuarantined++
    return file
  }

  private noteLostContent(digest: string, content: LostContent): void {
    const lost = this.fixed.itemsThatLostContent
    lost.count += content.referencedItems
    for (const reference of content.references) {
      if (lost.first.length < this.limit) lost.first.push({...reference, digest})
    }
  }
}

/** items/<2 hex>/<digest>, relative to the backup path. */
export function relativeBlobPath(digest: string): string {
  return path.relative('/', blobPath('/', digest))
}

/** Errors of a file operation (they name their syscall), as opposed to catalog errors. */
function isFileSystemError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException).syscall === 'string'
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}
