import type {BlobRepair} from './repairs.js'

import {throwIfAborted} from '../errors.js'
import {
  type CheckRun, found, reportCounters, throttledStep,
} from './check-run.js'
import {relativeBlobPath} from './repairs.js'
import {verifyStoredBlobs} from './stored-blobs.js'

const PAGE = 500
/**
 * An unreferenced blob row referenced this recently is not judged: a scanner batch may be committing its
 * reference, and servers sharing a PostgreSQL catalog may disagree on the time (the purge waits as long).
 */
export const ORPHAN_ROW_MIN_AGE_MS = 60 * 60 * 1000

interface BlobRow {
  digest: string
  stored: boolean | number
  last_referenced_at: number
}

/**
 * Every blob row, in digest order (the primary key, so pages cost the same at any depth): rows no revision
 * references are orphaned; the files of the stored ones are read back and hashed once each.
 */
export async function checkAllBlobs(run: CheckRun): Promise<void> {
  const {catalog, signal} = run.context
  let after = ''
  for (;;) {
    throwIfAborted(signal)
    const rows: BlobRow[] = await catalog.db('blobs')
    .where('digest', '>', after)
    .orderBy('digest')
    .limit(PAGE)
    .select('digest', 'stored', 'last_referenced_at')
    if (rows.length === 0) return
    after = rows.at(-1)!.digest
    const digests = rows.map(r => r.digest)
    // Through the partial index on blob_digest: an IN list implies IS NOT NULL on both dialects.
    const referenced = new Set<string>((await catalog.db('item_revisions').whereIn('blob_digest', digests).distinct('blob_digest'))
    .map((r: {blob_digest: string}) => r.blob_digest))
    const awaitingPurge = await purgeCandidates(run, digests.filter(digest => !referenced.has(digest)))
    const repairs: BlobRepair[] = []
    const toVerify: string[] = []
    const cutoff = run.startedAt - ORPHAN_ROW_MIN_AGE_MS
    for (const row of rows) {
      const isReferenced = referenced.has(row.digest)
      if (!isReferenced && awaitingPurge.has(row.digest)) {
        // A purge removed its last reference and stopped (doStopOperation, Ctrl-C, the daemon stopped) before
        // removing the blob: work the next purge finishes, as it documents, not damage to report or quarantine.
        run.checked.awaitingPurge++
        continue
      }

      if (!isReferenced && Number(row.last_referenced_at) < cutoff) {
        const finding = found(run, 'orphanedBlobs', {
          ...(row.stored ? {path: relativeBlobPath(row.digest)} : {}),
          digest: row.digest,
          detail: `no revision references this blob${row.stored ? '' : ' (not stored: only its row)'}`,
        })
        repairs.push({
          type: 'removeRow', digest: row.digest, unreferencedSince: cutoff, finding,
        })
        continue
      }

      if (!isReferenced) run.checked.recentNotJudged++
      if (row.stored) toVerify.push(row.digest)
    }

    run.checked.blobRows += rows.length
    await run.repairs?.applyBlobRepairs(repairs)
    await verifyStoredBlobs(run, toVerify)
    reportCounters(run)
    const mib = (run.checked.contentBytes / (2 ** 20)).toFixed(0)
    throttledStep(run, `blobs: ${run.checked.blobRows} rows read, ${run.checked.blobsVerified} files verified (${mib} MiB of content)`)
  }
}

/** Of these unreferenced blobs, those on the purge's list of blobs that lost their last reference. */
async function purgeCandidates(run: CheckRun, digests: string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set()
  return new Set(await run.context.catalog.db('blob_purge_candidates').whereIn('digest', digests).pluck('digest'))
}
