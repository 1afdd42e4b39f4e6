import type {Knex} from 'knex'

import type {PurgeRun} from './purge-run.js'

import {withRetry, writeTransaction} from '../catalog/write-transaction.js'
import {throwIfAborted} from '../errors.js'
import {placeholders} from './item-removal.js'
import {reportCounters} from './purge-run.js'

interface RemovedBlob {
  digest: string
  stored: boolean | number
  stored_size: null | number
}

interface BatchOutcome {
  removed: RemovedBlob[]
  deferred: number
}

/**
 * Deletes the blobs that lost their last reference: the candidates noted when revisions were removed (by this
 * purge or by an earlier one that left them), never a scan of `blobs`. Read in digest order from where the
 * previous batch stopped, so a candidate left for the next purge is not looked at twice in one.
 *
 * The rule with a concurrent scanner (flush-items.ts referenceBlobs): before a scanner batch commits revisions
 * that reference a blob, it updates that blob's row (last_referenced_at) in the same transaction; if the row is
 * gone it stores the content again and inserts a new row. For each batch of candidates the purge, in ONE
 * transaction:
 *   1. takes the rows it may delete: on PostgreSQL with FOR UPDATE SKIP LOCKED, so a row that a scanner batch has
 *      updated and not yet committed is skipped (deferred), never waited for; on SQLite the write lock, taken by
 *      the first statement, already excludes every scanner batch;
 *   2. deletes, in a later statement and so with a fresh snapshot (READ COMMITTED), those of them that no revision
 *      references and that nobody referenced within the grace period, RETURNING what it deleted;
 *   3. moves their files out of their real names (blob-trash.ts), then commits, then empties the trash.
 * A scanner batch that referenced a blob before step 1 has committed (its revisions are visible to step 2) or
 * still holds the row (skipped). One that comes after step 1 blocks on the row (PostgreSQL) or on the write
 * lock (SQLite) until the commit, then finds neither row nor file and stores the content again. The grace
 * period is a second fence, for writers that would take a reference outside that rule, and for clocks of
 * several servers sharing one PostgreSQL catalog.
 */
export async function purgeUnreferencedBlobs(run: PurgeRun): Promise<void> {
  const {catalog, signal} = run
  let after = ''
  for (;;) {
    throwIfAborted(signal)
    const batch: string[] = await catalog
    .db('blob_purge_candidates')
    .where('digest', '>', after)
    .orderBy('digest')
    .limit(run.batchSize)
    .pluck('digest')
    if (batch.length === 0) return
    after = batch.at(-1)!
    const outcome = await withRetry(() => settleBatch(run, batch))
    run.report.blobsDeferred += outcome.deferred
    run.report.blobs += outcome.removed.length
    reportCounters(run)
  }
}

async function settleBatch(run: PurgeRun, batch: string[]): Promise<BatchOutcome & {bytes: number}> {
  const {catalog, trash} = run
  const moved: string[] = []
  let bytes = 0
  let outcome: BatchOutcome
  try {
    outcome = await writeTransaction(catalog, async trx => {
      const result = await deleteUnreferenced(trx, run, batch)
      for (const blob of result.removed) {
        // A row whose content was never stored has no file; moveIn then finds nothing, which is fine.
        const size = await trash.moveIn(blob.digest)
        if (size !== null) {
          moved.push(blob.digest)
          bytes += size
        }
      }

      await run.pauseBeforeBlobCommit?.()
      return result
    })
  } catch (error) {
    await trash.restore(moved)
    throw error
  }

  await trash.empty(moved)
  run.report.bytesFreed += bytes
  return {...outcome, bytes}
}

async function deleteUnreferenced(trx: Knex.Transaction, run: PurgeRun, batch: string[]): Promise<BatchOutcome> {
  const graceCutoff = Date.now() - run.blobGraceMs
  const rows: Array<{digest: string; last_referenced_at: number}> = await trx('blobs')
  .whereIn('digest', batch)
  .select('digest', 'last_referenced_at')
  // A committed reference settles a candidate for good: when that reference goes, its removal notes it again.
  const referenced = new Set<string>(await trx('item_revisions').whereIn('blob_digest', batch).distinct().pluck('blob_digest'))
  let lockable = rows
  .filter(row => !referenced.has(row.digest) && Number(row.last_referenced_at) < graceCutoff)
  .map(row => row.digest)
  if (run.catalog.dialect === 'postgres' && lockable.length > 0) {
    lockable = await trx('blobs')
    .whereIn('digest', lockable)
    .andWhere('last_referenced_at', '<', graceCutoff)
    .orderBy('digest')
    .forUpdate()
    .skipLocked()
    .pluck('digest')
  }

  const removed: RemovedBlob[] = lockable.length === 0
    ? []
    : rowsOf(await trx.raw(
      `DELETE FROM blobs WHERE digest IN (${placeholders(lockable)}) AND last_referenced_at < ?
     AND NOT EXISTS (SELECT 1 FROM item_revisions r WHERE r.blob_digest = blobs.digest)
     RETURNING digest, stored, stored_size`,
      [...lockable, graceCutoff],
    ))
  // Settled: without a row (a scanner that inserts one references it), referenced, or deleted or seen referenced
  // while this transaction held the row. What is left is unreferenced but referenced too recently, or held by a
  // scanner batch right now: kept for the next purge.
  const present = new Set(rows.map(row => row.digest))
  const settled = [...lockable, ...batch.filter(digest => !present.has(digest) || referenced.has(digest))]
  if (settled.length > 0) await trx('blob_purge_candidates').whereIn('digest', settled).delete()
  return {removed, deferred: batch.length - settled.length}
}

/** knex's raw result: rows on SQLite, a driver result with rows on PostgreSQL. */
function rowsOf<T>(result: T[] | {rows: T[]}): T[] {
  return Array.isArray(result) ? result : result.rows
}
