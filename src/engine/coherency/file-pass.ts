import type {Dirent} from 'node:fs'

import {lstat, opendir} from 'node:fs/promises'
import path from 'node:path'

import type {BlobRepair} from './repairs.js'

import {abandonedTemporary, TEMPORARY_DIR} from '../blobstore/blob-temporary.js'
import {throwIfAborted} from '../errors.js'
import {
  type CheckRun, found, reportCounters, throttledStep,
} from './check-run.js'
import {verifyBlobFile} from './verify-blob.js'

const BATCH = 500
const HOUR_MS = 3_600_000
/**
 * The scanner writes a blob file before the batch transaction that adds its row (so the catalog never names a
 * file that is not there): for a moment a new file has no row. A file without a row is an orphan only when it is
 * older than this; younger ones are counted as not judged and looked at again by the next check.
 */
export const ORPHAN_MIN_AGE_MS = 10 * 60_000
/**
 * Earlier versions of BlobStore.put wrote items/<2 hex>/.tmp-<digest>-<pid>-<random> and renamed it: an old one is a
 * crashed write. (Now it writes in items/.tmp/, judged as the blob store's own sweep judges: blob-temporary.ts.)
 */
export const STALE_TEMPORARY_MS = HOUR_MS

const DIGEST = /^[0-9a-f]{64}$/

interface Candidate {
  relative: string
  digest: string
}

/**
 * Every entry under items/, listed a directory at a time as a stream (never a whole listing in memory): files in
 * the place of a blob are looked up in batches, anything else under items/ is named by no blob row.
 */
export async function checkStoreFiles(run: CheckRun): Promise<void> {
  let batch: Candidate[] = []
  for await (const entry of walk(path.join(run.context.catalog.home, 'items'), 'items', run.context.signal)) {
    run.checked.files++
    const {relative, dirent} = entry
    const parts = relative.split(path.sep)
    if (dirent.name.startsWith('.tmp-')) {
      await checkTemporary(run, relative)
    } else if (dirent.isFile() && parts.length === 3 && DIGEST.test(dirent.name) && parts[1] === dirent.name.slice(0, 2)) {
      batch.push({relative, digest: dirent.name})
      if (batch.length >= BATCH) {
        await checkCandidates(run, batch)
        batch = []
      }
    } else {
      await orphan(run, {relative}, `${dirent.isFile() ? 'a file' : 'an entry'} that is not where a blob is kept (items/<2 hex>/<sha256 hex>)`)
    }
  }

  await checkCandidates(run, batch)
}

async function * walk(directory: string, relative: string, signal: AbortSignal): AsyncGenerator<{dirent: Dirent; relative: string}> {
  let handle
  try {
    handle = await opendir(directory, {bufferSize: 256})
  } catch (error) {
    // No blob stored yet (a new or blobless backup): nothing to walk.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && relative === 'items') return
    throw error
  }

  for await (const dirent of handle) {
    throwIfAborted(signal)
    const child = path.join(relative, dirent.name)
    if (dirent.isDirectory()) yield * walk(path.join(directory, dirent.name), child, signal)
    else yield {dirent, relative: child}
  }
}

async function checkTemporary(run: CheckRun, relative: string): Promise<void> {
  const info = await lstatIfThere(run, relative)
  if (!info) return
  const parts = relative.split(path.sep)
  let why: string | undefined
  if (parts.length === 3 && parts[1] === TEMPORARY_DIR) {
    // Not by age alone: another host's writer may be at work on it, and only a day proves it is not.
    why = info.isFile() ? abandonedTemporary(parts[2], info.mtimeMs, run.startedAt) : undefined
  } else if (info.mtimeMs <= run.startedAt - STALE_TEMPORARY_MS) {
    why = `last written at ${new Date(info.mtimeMs).toISOString()}`
  }

  if (why === undefined) return
  const finding = found(run, 'staleTemporaryFiles', {
    path: relative,
    detail: `a temporary file ${why}: a blob write that never finished`,
  })
  await run.repairs?.applyBlobRepairs([{
    type: 'quarantine', kind: 'staleTemporaryFiles', relative, unnamedOnly: false, finding,
  }])
}

async function checkCandidates(run: CheckRun, batch: Candidate[]): Promise<void> {
  if (batch.length === 0) return
  const rows: Array<{digest: string; stored: boolean | number}> = await run.context.catalog
  .db('blobs')
  .whereIn('digest', batch.map(c => c.digest))
  .select('digest', 'stored')
  const stored = new Map(rows.map(r => [r.digest, Boolean(r.stored)]))
  const repairs: BlobRepair[] = []
  for (const candidate of batch) {
    const isStored = stored.get(candidate.digest)
    // Stored rows: the blob pass read and hashed their files already.
    if (isStored === true) continue
    if (isStored === undefined) {
      const repair = await orphan(run, candidate, 'no blob row names this file', false)
      if (repair) repairs.push(repair)
      continue
    }

    // A row that says "not stored" (blobless, or content found missing) while the file is there.
    const verdict = await verifyBlobFile(path.join(run.context.catalog.home, candidate.relative), candidate.digest)
    if (verdict.status === 'ok') {
      const finding = found(run, 'unrecordedFiles', {
        path: candidate.relative,
        digest: candidate.digest,
        detail: 'the file holds the blob\'s exact content but its row says it is not stored',
      })
      repairs.push({
        type: 'markStored', digest: candidate.digest, storedSize: verdict.storedSize, finding,
      })
    } else if (verdict.status === 'corrupt') {
      const finding = found(run, 'corruptBlobs', {
        path: candidate.relative,
        digest: candidate.digest,
        detail: `${verdict.detail} (its row already says it is not stored)`,
      })
      repairs.push({
        type: 'quarantine', kind: 'corruptBlobs', relative: candidate.relative, digest: candidate.digest, unnamedOnly: false, finding,
      })
    }
  }

  await run.repairs?.applyBlobRepairs(repairs)
  reportCounters(run)
  throttledStep(run, `files: ${run.checked.files} entries under items/ looked at`)
}

/**
 * Records a file no blob row names (when old enough to judge) and returns its repair; applies it at once unless
 * the caller batches it.
 */
async function orphan(run: CheckRun, {digest, relative}: {digest?: string; relative: string}, why: string, applyNow = true): Promise<BlobRepair | undefined> {
  const info = await lstatIfThere(run, relative)
  if (!info) return undefined
  if (info.mtimeMs > run.startedAt - ORPHAN_MIN_AGE_MS) {
    run.checked.recentNotJudged++
    return undefined
  }

  const finding = found(run, 'orphanedFiles', {path: relative, ...(digest ? {digest} : {}), detail: why})
  const repair: BlobRepair = {
    type: 'quarantine', kind: 'orphanedFiles', relative, ...(digest ? {digest} : {}), unnamedOnly: true, finding,
  }
  if (applyNow) await run.repairs?.applyBlobRepairs([repair])
  return repair
}

async function lstatIfThere(run: CheckRun, relative: string) {
  try {
    return await lstat(path.join(run.context.catalog.home, relative))
  } catch (error) {
    // Gone since it was listed (renamed into place, or moved by a repair): nothing to judge.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
}
