import type {Catalog} from '../catalog/catalog.js'

export interface CurrentWithoutContent {
  /** Current item states whose blob is not stored (blobless mode kept only the reference). */
  notStored: number
  /** Current item states whose content was gone (or wrong) on the AppServer when it was read. */
  contentMissing: number
}

// A current item state with content: open, not deleted, with a digest.
const CURRENT_WITH_CONTENT = 'r.valid_to IS NULL AND r.deleted = false AND r.blob_digest IS NOT NULL'

/**
 * The current item states whose content the backup does not hold, found from the few rows concerned rather than by
 * reading every revision and looking its blob up (4.5 s on SQLite for 436k revisions): the missing ones through the
 * partial index item_revisions_content_missing (its predicate written word for word), the not stored ones from the
 * blobs not stored (none outside blobless mode) through the blob index. `pairsWithoutRow` (from
 * blobReferenceTotals) says whether a damaged catalog has references to digests without a blob row: only then is
 * every referenced digest looked up in blobs, so that those count as not stored too, as they always have. In blobless
 * mode every blob is not stored and the count reads every current revision with content, as it did before.
 */
export async function currentWithoutContent(catalog: Catalog, pairsWithoutRow: number): Promise<CurrentWithoutContent> {
  const {db} = catalog
  // Only the index's own predicate in the WHERE: a term on blob_digest there made SQLite walk the blob index instead.
  const [missing] = await db('item_revisions as r')
  .whereRaw('r.content_missing = true')
  .select(db.raw(`SUM(CASE WHEN ${CURRENT_WITH_CONTENT} THEN 1 ELSE 0 END) AS n`))
  const unstored = pairsWithoutRow === 0
    ? db('blobs').where('stored', false).select('digest')
    : db('item_revisions').whereNotNull('blob_digest').whereNotExists(db('blobs').whereRaw('blobs.digest = item_revisions.blob_digest').andWhere('blobs.stored', true)).distinct('blob_digest')
  const [notStored] = await db('item_revisions as r')
  .whereRaw('r.content_missing = false')
  .andWhereRaw(CURRENT_WITH_CONTENT)
  .whereIn('r.blob_digest', unstored)
  .count({n: '*'})
  return {notStored: Number(notStored.n), contentMissing: Number(missing.n ?? 0)}
}
