import path from 'node:path'

import type {BlobRepair} from './repairs.js'

import {blobReferences} from './blob-references.js'
import {mapBounded} from './bounded-map.js'
import {type CheckRun, found} from './check-run.js'
import {relativeBlobPath} from './repairs.js'
import {verifyBlobFile} from './verify-blob.js'

/**
 * Reads back the files of blobs the catalog says are stored (a few at once) and records the missing and corrupt
 * ones with the items that reference them; under fixBackup their rows become "not stored" (and corrupt files go
 * to quarantine). Returns nothing: findings, counters and repairs go into the run.
 */
export async function verifyStoredBlobs(run: CheckRun, digests: readonly string[]): Promise<void> {
  const {catalog, signal} = run.context
  const verdicts = await mapBounded(digests, run.concurrency, signal, digest =>
    verifyBlobFile(path.join(catalog.home, relativeBlobPath(digest)), digest))
  const repairs: BlobRepair[] = []
  for (const [index, verdict] of verdicts.entries()) {
    const digest = digests[index]
    if (verdict.status === 'ok') {
      run.checked.blobsVerified++
      run.checked.storedBytes += verdict.storedSize
      run.checked.contentBytes += verdict.size
      continue
    }

    const {references, referencedItems} = await blobReferences(catalog.db, digest, run.accountIds)
    // The row is shared by every account: a repair takes content from items of accounts not named too.
    const lost = run.repairs && run.accountIds ? await blobReferences(catalog.db, digest, null) : {references, referencedItems}
    const who = referencedItems === 0 ? 'no item references it' : `referenced by ${referencedItems} item(s)`
    if (verdict.status === 'missing') {
      const finding = found(run, 'missingBlobs', {
        path: relativeBlobPath(digest), digest, ...firstAccountItem(references), references, referencedItems,
        detail: `the blob row says stored but there is no file; ${who}`,
      })
      repairs.push({
        type: 'notStored', kind: 'missingBlobs', digest, lost, finding,
      })
    } else {
      run.checked.blobsVerified++
      run.checked.storedBytes += verdict.storedSize
      const finding = found(run, 'corruptBlobs', {
        path: relativeBlobPath(digest), digest, ...firstAccountItem(references), references, referencedItems,
        detail: `${verdict.detail}; ${who}`,
      })
      repairs.push({
        type: 'notStored', kind: 'corruptBlobs', digest, lost, finding,
      })
    }
  }

  await run.repairs?.applyBlobRepairs(repairs)
}

/** The account and item a finding is filed under: the first that references the blob (all are in references). */
function firstAccountItem(references: ReadonlyArray<{account: string; item: string}>): {account?: string; item?: string} {
  return references.length > 0 ? {account: references[0].account, item: references[0].item} : {}
}
