import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'
import type {FolderVersion} from './versions.js'

import {bulkCloseOpen, bulkInsert} from '../catalog/bulk-rows.js'

export interface CurrentFolder {
  accountId: number
  /** null until the batch that first saw the folder writes its identity. */
  folderId: null | number
  remoteId: string
  /** The newest state, written or not. */
  version: FolderVersion
  /** States of this batch not written yet, oldest first. */
  pending: FolderVersion[]
  /** The catalog holds an open revision of this folder that the first pending state closes. */
  openInDb: boolean
}

const FOLDER_COLUMNS = [
  {name: 'account_id', type: 'integer'},
  {name: 'remote_id', type: 'text'},
  {name: 'first_seen', type: 'bigint'},
] as const

const FOLDER_REVISION_COLUMNS = [
  {name: 'folder_id', type: 'bigint'},
  {name: 'valid_from', type: 'bigint'},
  {name: 'valid_to', type: 'bigint'},
  {name: 'operation', type: 'text'},
  {name: 'path', type: 'text'},
  {name: 'parent_remote_id', type: 'text'},
  {name: 'view', type: 'text'},
  {name: 'deleted', type: 'boolean'},
  {name: 'metadata', type: 'text'},
  {name: 'txn_seq', type: 'bigint'},
] as const

/** The folders of an account as they are now in the catalog (open revisions), deleted ones included. */
export async function currentFolders(trx: Knex.Transaction, accountId: number): Promise<Map<string, CurrentFolder>> {
  const rows = await trx('folders as f')
  .join('folder_revisions as r', 'r.folder_id', 'f.id')
  .where('f.account_id', accountId)
  .whereNull('r.valid_to')
  .select('f.id', 'f.remote_id', 'r.valid_from', 'r.operation', 'r.path', 'r.parent_remote_id', 'r.view', 'r.deleted', 'r.metadata', 'r.txn_seq')
  const folders = new Map<string, CurrentFolder>()
  for (const row of rows) {
    folders.set(row.remote_id, {
      accountId,
      folderId: Number(row.id),
      remoteId: row.remote_id,
      pending: [],
      openInDb: true,
      version: {
        validFrom: Number(row.valid_from),
        operation: row.operation,
        path: row.path,
        parent: row.parent_remote_id,
        view: row.view,
        deleted: Boolean(row.deleted),
        metadata: JSON.parse(row.metadata),
        txnSeq: row.txn_seq === null ? null : Number(row.txn_seq),
      },
    })
  }

  return folders
}

/** The folder and every live folder below it, following parent links (the server's folder ids). */
export function subtreeOf(folders: Map<string, CurrentFolder>, root: string): string[] {
  const children = new Map<string, string[]>()
  for (const folder of folders.values()) {
    if (folder.version.deleted || folder.version.parent === null) continue
    const siblings = children.get(folder.version.parent) ?? []
    siblings.push(folder.remoteId)
    children.set(folder.version.parent, siblings)
  }

  const result: string[] = []
  const stack = [root]
  const seen = new Set<string>()
  while (stack.length > 0) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    result.push(id)
    stack.push(...(children.get(id) ?? []))
  }

  return result
}

/**
 * Stages a folder's new state in the batch's view of the account's folders (creating its identity on first sight);
 * flushFolders writes it with the batch. Returns the folder, to be passed to flushFolders.
 */
export function stageFolderVersion(
  accountId: number,
  remoteId: string,
  version: FolderVersion,
  known: Map<string, CurrentFolder>,
): CurrentFolder {
  let current = known.get(remoteId)
  if (!current) {
    current = {
      accountId, folderId: null, remoteId, version, pending: [], openInDb: false,
    }
    known.set(remoteId, current)
  }

  current.pending.push(version)
  current.version = version
  return current
}

/**
 * Writes a batch's folder changes in a few statements whatever their number: new identities, the closing of each
 * folder's open revision, then the new revisions (each closed by the next one of the same batch).
 */
export async function flushFolders(trx: Knex.Transaction, dialect: Catalog['dialect'], staged: Iterable<CurrentFolder>): Promise<void> {
  const changed = [...staged].filter(f => f.pending.length > 0)
  if (changed.length === 0) return
  const fresh = changed.filter(f => f.folderId === null)
  if (fresh.length > 0) {
    const inserted = await bulkInsert(trx, dialect, 'folders', FOLDER_COLUMNS, fresh.map(f => [f.accountId, f.remoteId, f.pending[0].validFrom]), ['id', 'account_id', 'remote_id'])
    const ids = new Map(inserted.map(r => [`${r.account_id}\u0000${r.remote_id}`, Number(r.id)]))
    for (const f of fresh) f.folderId = ids.get(`${f.accountId}\u0000${f.remoteId}`)!
  }

  await bulkCloseOpen(trx, dialect, 'folder_revisions', 'folder_id', 'valid_to', changed.filter(f => f.openInDb).map(f => [f.folderId!, f.pending[0].validFrom] as const))
  const rows: unknown[][] = []
  for (const f of changed) {
    for (const [index, v] of f.pending.entries()) {
      rows.push([f.folderId, v.validFrom, f.pending[index + 1]?.validFrom ?? null, v.operation, v.path, v.parent, v.view, v.deleted, JSON.stringify(v.metadata), v.txnSeq])
    }

    f.pending = []
    f.openInDb = true
  }

  await bulkInsert(trx, dialect, 'folder_revisions', FOLDER_REVISION_COLUMNS, rows)
}
