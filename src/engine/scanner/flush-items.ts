import type {Knex} from 'knex'

import type {Transaction} from '../appserver/transaction.js'
import type {BlobStore} from '../blobstore/blob-store.js'
import type {TransactionFeed} from './feed-entry.js'

import {bulkCloseOpen, bulkInsert, bulkTouch} from '../catalog/bulk-rows.js'
import {type Catalog, now} from '../catalog/catalog.js'
import {ScannerConflict} from './checkpoints.js'
import {contentOf, readContent, type ResolvedContent} from './content-resolver.js'
import {loadOpenItems, REVISION_COLUMNS, revisionValues} from './item-rows.js'
import {itemKey, type ItemState} from './versions.js'

const ITEM_COLUMNS = [
  {name: 'account_id', type: 'integer'},
  {name: 'remote_id', type: 'text'},
  {name: 'type', type: 'text'},
  {name: 'first_seen', type: 'bigint'},
] as const

const BLOB_COLUMNS = [
  {name: 'digest', type: 'text'},
  {name: 'size', type: 'bigint'},
  {name: 'stored_size', type: 'bigint'},
  {name: 'stored', type: 'boolean'},
  {name: 'created_at', type: 'bigint'},
  {name: 'last_referenced_at', type: 'bigint'},
] as const

export interface FlushOptions {
  blobless: boolean
  blobs: BlobStore
  dialect: Catalog['dialect']
  feed: Pick<TransactionFeed, 'resolveContentPath'>
}

export interface FlushResult {
  revisions: number
  blobsWritten: number
  bytesWritten: number
}

/**
 * Writes a batch's item changes: new identities, the closing of each item's previous open revision (the only
 * update the scanner ever makes), the new revisions, and the blob rows they reference.
 */
export async function flushItems(
  trx: Knex.Transaction,
  states: ItemState[],
  contents: Map<Transaction, ResolvedContent>,
  options: FlushOptions,
): Promise<FlushResult> {
  const changed = states.filter(s => s.pending.length > 0)
  const result: FlushResult = {revisions: 0, blobsWritten: 0, bytesWritten: 0}
  if (changed.length === 0) return result

  // Blob rows first: revisions reference them, and bumping last_referenced_at tells a concurrent purge to
  // keep them (see purge.ts).
  const blobResult = await referenceBlobs(trx, changed, contents, options)
  result.blobsWritten = blobResult.written
  result.bytesWritten = blobResult.bytes

  const fresh = changed.filter(s => s.itemId === null)
  if (fresh.length > 0) {
    const inserted = await bulkInsert(trx, options.dialect, 'items', ITEM_COLUMNS, fresh.map(s => [s.accountId, s.remoteId, s.type, s.pending[0].validFrom]), ['id', 'account_id', 'remote_id'], ['account_id', 'remote_id'])
    const ids = new Map(inserted.map(r => [itemKey(Number(r.account_id), String(r.remote_id)), Number(r.id)]))
    const existing: ItemState[] = []
    for (const s of fresh) {
      s.itemId = ids.get(itemKey(s.accountId, s.remoteId)) ?? null
      if (s.itemId === null) existing.push(s)
    }

    await adoptExistingIdentities(trx, existing)
  }

  await dropOpenDeletions(trx, changed.filter(s => s.dropsOpenDeletion))
  const closing = changed.filter(s => s.openInDb).map(s => [s.itemId!, s.pending[0].validFrom] as const)
  await bulkCloseOpen(trx, options.dialect, 'item_revisions', 'item_id', 'valid_to', closing)

  const rows: unknown[][] = []
  for (const s of changed) {
    for (const [index, version] of s.pending.entries()) {
      rows.push(revisionValues(s.itemId!, version, s.pending[index + 1]?.validFrom ?? null))
    }

    s.openInDb = true
    s.pending = []
  }

  await bulkInsert(trx, options.dialect, 'item_revisions', REVISION_COLUMNS, rows)
  result.revisions = rows.length
  return result
}

/**
 * Removes the open deletions that Batch.undoDeletion took back: the new versions start where they started. Only
 * that very revision goes (open, a deletion, from that moment); another writer that changed it since makes the
 * batch fail and be applied again, rather than remove something else.
 */
async function dropOpenDeletions(trx: Knex.Transaction, states: ItemState[]): Promise<void> {
  for (const s of states) {
    const removed = await trx('item_revisions')
    .where({item_id: s.itemId!, deleted: true, valid_from: s.pending[0].validFrom})
    .whereNull('valid_to')
    .delete()
    if (removed !== 1) throw new ScannerConflict('imap', `the deletion of item ${s.remoteId} changed while a batch that undoes it was being written`)
    s.dropsOpenDeletion = false
  }
}

/**
 * item.created is not looked up before the batch (ids are not reused, so it is almost always new); when the id
 * does exist already, the new states follow its open revision: that one is closed, and none starts before it.
 */
async function adoptExistingIdentities(trx: Knex.Transaction, states: ItemState[]): Promise<void> {
  if (states.length === 0) return
  const open = await loadOpenItems(trx, states.map(s => [s.accountId, s.remoteId]))
  for (const s of states) {
    const found = open.get(itemKey(s.accountId, s.remoteId))
    if (!found) throw new Error(`item ${s.remoteId} of account ${s.accountId} neither inserted nor found`)
    s.itemId = found.itemId
    s.openInDb = true
    let floor = found.current!.validFrom
    for (const version of s.pending) {
      version.validFrom = Math.max(version.validFrom, floor)
      floor = version.validFrom
    }
  }
}

async function referenceBlobs(
  trx: Knex.Transaction,
  changed: ItemState[],
  contents: Map<Transaction, ResolvedContent>,
  options: FlushOptions,
): Promise<{bytes: number; written: number}> {
  const referenced = new Map<string, null | number>()
  for (const s of changed) for (const v of s.pending) if (v.blobDigest) referenced.set(v.blobDigest, v.size)
  if (referenced.size === 0) return {bytes: 0, written: 0}
  const resolvedByDigest = new Map<string, {content: ResolvedContent; transaction: Transaction}>()
  for (const [transaction, content] of contents) {
    if (content.digest && content.stored) resolvedByDigest.set(content.digest, {content, transaction})
  }

  const at = now()
  const existing = new Map<string, boolean>()
  const touched = await bulkTouch(trx, options.dialect, 'blobs', 'digest', [...referenced.keys()], {column: 'last_referenced_at', value: at}, ['digest', 'stored'])
  for (const row of touched) existing.set(String(row.digest), Boolean(row.stored))

  let written = 0
  let bytes = 0
  const inserts: unknown[][] = []
  for (const [digest, size] of referenced) {
    const resolved = resolvedByDigest.get(digest)
    let stored = Boolean(resolved)
    let storedSize = resolved?.content.storedSize ?? null
    if (resolved && !existing.get(digest) && !(await options.blobs.has(digest))) {
      ({stored, storedSize} = await storeAgain(resolved.transaction, digest, options))
    }

    if (!existing.has(digest)) {
      inserts.push([digest, size ?? 0, storedSize, stored, at, at])
      if (stored) {
        written++
        bytes += storedSize ?? 0
      }
    } else if (stored && !existing.get(digest)) {
      await trx('blobs').where({digest}).update({stored: true, stored_size: storedSize})
      written++
      bytes += storedSize ?? 0
    }
  }

  // Another process (a SmartScan beside the daemon, another server on a shared PostgreSQL) may have inserted the
  // same content since the lookup above: its row serves this batch's references as well.
  await bulkInsert(trx, options.dialect, 'blobs', BLOB_COLUMNS, inserts, [], ['digest'])
  return {bytes, written}
}

/**
 * A blob that was in the store when the batch read its content and that a purge removed since: stored again from the
 * transaction's content; not stored when the AppServer no longer has it.
 */
async function storeAgain(transaction: Transaction, digest: string, options: FlushOptions): Promise<{stored: boolean; storedSize: null | number}> {
  const ref = contentOf(transaction)!
  // A large IMAP message was stored as it arrived, and its bytes are not kept: the cycle reads it again.
  if (ref.bytes === undefined && ref.inline === undefined && ref.path === undefined) {
    throw new ScannerConflict('imap', `blob ${digest} was purged while a batch that names it was being written: ${ref.locator ?? 'its content'} is read again`)
  }

  const bytes = await readContent(ref, options.feed)
  if (!bytes) return {stored: false, storedSize: null}
  return {stored: true, storedSize: (await options.blobs.put(bytes, digest)).storedSize}
}
