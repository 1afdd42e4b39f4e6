import type {Knex} from 'knex'

import type {Transaction} from '../appserver/transaction.js'
import type {BlobStore} from '../blobstore/blob-store.js'
import {now} from '../catalog/catalog.js'
import {contentOf, readContent, type ResolvedContent} from './content-resolver.js'
import type {TransactionFeed} from './feed-entry.js'
import {revisionRow} from './item-rows.js'
import type {ItemState} from './versions.js'

const CHUNK = 500

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
  options: {blobless: boolean; blobs: BlobStore; feed: Pick<TransactionFeed, 'resolveContentPath'>},
): Promise<FlushResult> {
  const changed = states.filter((s) => s.pending.length > 0)
  const result: FlushResult = {revisions: 0, blobsWritten: 0, bytesWritten: 0}
  if (changed.length === 0) return result

  // Blob rows first: revisions reference them, and bumping last_referenced_at tells a concurrent purge to
  // keep them (see purge.ts).
  const blobResult = await referenceBlobs(trx, changed, contents, options)
  result.blobsWritten = blobResult.written
  result.bytesWritten = blobResult.bytes

  const fresh = changed.filter((s) => s.itemId === null)
  for (let i = 0; i < fresh.length; i += CHUNK) {
    const chunk = fresh.slice(i, i + CHUNK)
    const rows: Array<{account_id: number; id: number; remote_id: string}> = await trx('items')
      .insert(chunk.map((s) => ({account_id: s.accountId, remote_id: s.remoteId, type: s.type, first_seen: s.pending[0].validFrom})))
      .returning(['id', 'account_id', 'remote_id'])
    const ids = new Map(rows.map((r) => [`${r.account_id}\u0000${r.remote_id}`, Number(r.id)]))
    for (const s of chunk) s.itemId = ids.get(`${s.accountId}\u0000${s.remoteId}`)!
  }

  const closing = changed.filter((s) => s.openInDb)
  for (let i = 0; i < closing.length; i += CHUNK) {
    const chunk = closing.slice(i, i + CHUNK)
    const cases = chunk.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')
    const bindings: Knex.RawBinding[] = chunk.flatMap((s) => [s.itemId, s.pending[0].validFrom])
    await trx.raw(
      `UPDATE item_revisions SET valid_to = CASE item_id ${cases} END WHERE valid_to IS NULL AND item_id IN (${chunk.map(() => '?').join(',')})`,
      [...bindings, ...chunk.map((s) => s.itemId!)],
    )
  }

  const rows: Array<Record<string, unknown>> = []
  for (const s of changed) {
    for (const [index, version] of s.pending.entries()) {
      rows.push(revisionRow(s.itemId!, version, s.pending[index + 1]?.validFrom ?? null))
    }

    s.openInDb = true
    s.pending = []
  }

  for (let i = 0; i < rows.length; i += CHUNK) await trx('item_revisions').insert(rows.slice(i, i + CHUNK))
  result.revisions = rows.length
  return result
}

async function referenceBlobs(
  trx: Knex.Transaction,
  changed: ItemState[],
  contents: Map<Transaction, ResolvedContent>,
  options: {blobless: boolean; blobs: BlobStore; feed: Pick<TransactionFeed, 'resolveContentPath'>},
): Promise<{bytes: number; written: number}> {
  const referenced = new Map<string, null | number>()
  for (const s of changed) for (const v of s.pending) if (v.blobDigest) referenced.set(v.blobDigest, v.size)
  if (referenced.size === 0) return {bytes: 0, written: 0}
  const resolvedByDigest = new Map<string, {content: ResolvedContent; transaction: Transaction}>()
  for (const [transaction, content] of contents) {
    if (content.digest && content.stored) resolvedByDigest.set(content.digest, {content, transaction})
  }

  const at = now()
  const digests = [...referenced.keys()]
  const existing = new Map<string, boolean>()
  for (let i = 0; i < digests.length; i += CHUNK) {
    const chunk = digests.slice(i, i + CHUNK)
    await trx('blobs').whereIn('digest', chunk).update({last_referenced_at: at})
    for (const row of await trx('blobs').whereIn('digest', chunk).select('digest', 'stored')) {
      existing.set(row.digest, Boolean(row.stored))
    }
  }

  let written = 0
  let bytes = 0
  const inserts: Array<Record<string, unknown>> = []
  for (const [digest, size] of referenced) {
    const resolved = resolvedByDigest.get(digest)
    let stored = Boolean(resolved)
    let storedSize = resolved?.content.storedSize ?? null
    if (resolved && !existing.get(digest) && !(await options.blobs.has(digest))) {
      // The file was there when the batch read its content, but a purge removed it since: store it again.
      const bytesAgain = await readContent(contentOf(resolved.transaction)!, options.feed)
      if (bytesAgain) {
        storedSize = (await options.blobs.put(bytesAgain, digest)).storedSize
      } else {
        stored = false
        storedSize = null
      }
    }

    if (!existing.has(digest)) {
      inserts.push({digest, size: size ?? 0, stored_size: storedSize, stored, created_at: at, last_referenced_at: at})
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

  for (let i = 0; i < inserts.length; i += CHUNK) await trx('blobs').insert(inserts.slice(i, i + CHUNK))
  return {bytes, written}
}
