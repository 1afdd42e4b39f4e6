import type {Knex} from 'knex'

import type {BlobReference} from './findings.js'

/** How many referencing items a finding names; the count covers all of them. */
const NAMED_REFERENCES = 5

/**
 * The items whose revisions reference a blob: whose content is lost when the blob is. Limited to the named
 * accounts when the check was given some. Goes through the partial index on item_revisions.blob_digest.
 */
export async function blobReferences(
  db: Knex,
  digest: string,
  accountIds: null | number[],
): Promise<{references: BlobReference[]; referencedItems: number}> {
  const scoped = (query: Knex.QueryBuilder) => (accountIds ? query.whereIn('i.account_id', accountIds) : query)
  const base = () => scoped(db('item_revisions as r').join('items as i', 'i.id', 'r.item_id').where('r.blob_digest', digest))
  const counted: Array<{n: number | string}> = await base().countDistinct({n: 'r.item_id'})
  const rows: Array<{account: string; item: string}> = await base()
  .join('accounts as a', 'a.id', 'i.account_id')
  .distinct('a.name as account', 'i.remote_id as item')
  .orderBy([{column: 'a.name'}, {column: 'i.remote_id'}])
  .limit(NAMED_REFERENCES)
  return {references: rows.map(r => ({account: r.account, item: r.item})), referencedItems: Number(counted[0]?.n ?? 0)}
}
