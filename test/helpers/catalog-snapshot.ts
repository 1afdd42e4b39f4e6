import type {Catalog} from '../../src/engine/catalog/catalog.js'

import {openCatalog} from '../../src/engine/catalog/open-catalog.js'

/**
 * Everything the scanner recorded, without what differs between two correct runs (row ids, wall-clock times of
 * recording): two runs over the same feed must produce equal snapshots, however often one was killed.
 */
export async function catalogSnapshot(catalog: Catalog): Promise<Record<string, unknown>> {
  const {db} = catalog
  const accounts = await db('accounts').orderBy('name').select('name', 'remote_id', 'cos_name', 'first_seen', 'deleted_at')
  const accountRevisions = await db('account_revisions as r').join('accounts as a', 'a.id', 'r.account_id')
  .orderBy(['a.name', 'r.valid_from', 'r.id']).select('a.name as account', 'r.valid_from', 'r.valid_to', 'r.operation', 'r.name', 'r.deleted', 'r.settings')
  const folderRevisions = await db('folder_revisions as r').join('folders as f', 'f.id', 'r.folder_id').join('accounts as a', 'a.id', 'f.account_id')
  .orderBy(['a.name', 'f.remote_id', 'r.valid_from', 'r.id'])
  .select('a.name as account', 'f.remote_id', 'r.valid_from', 'r.valid_to', 'r.operation', 'r.path', 'r.parent_remote_id', 'r.deleted', 'r.txn_seq')
  const itemRevisions = await db('item_revisions as r').join('items as i', 'i.id', 'r.item_id').join('accounts as a', 'a.id', 'i.account_id')
  .orderBy(['a.name', 'i.remote_id', 'r.valid_from', 'r.id'])
  .select('a.name as account', 'i.remote_id', 'i.type', 'r.valid_from', 'r.valid_to', 'r.operation', 'r.folder_remote_id', 'r.flags', 'r.tags', 'r.metadata', 'r.blob_digest', 'r.size', 'r.content_missing', 'r.deleted', 'r.txn_seq')
  const blobs = await db('blobs').orderBy('digest').select('digest', 'size', 'stored')
  const errors = await db('ingest_errors').orderBy(['source', 'line', 'reason']).select('source', 'line', 'account', 'reason')
  const checkpoints = await db('checkpoints').orderBy(['connector', 'scope']).select('connector', 'scope', 'position')
  const certainty = await db('account_state as s').join('accounts as a', 'a.id', 's.account_id').orderBy('a.name').select('a.name', 's.certain', 's.reason')
  const normalize = (rows: Array<Record<string, unknown>>) => rows.map(row => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v])))
  return {
    accounts: normalize(accounts),
    accountRevisions: normalize(accountRevisions),
    folderRevisions: normalize(folderRevisions),
    itemRevisions: normalize(itemRevisions),
    blobs: normalize(blobs),
    errors: normalize(errors),
    checkpoints,
    certainty: normalize(certainty),
  }
}

/** The snapshot of the catalog of a backup home (as the CLI with `env` would open it), opened and closed here. */
export async function snapshotOfHome(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const catalog = await openCatalog({env})
  try {
    return await catalogSnapshot(catalog)
  } finally {
    await catalog.close()
  }
}
