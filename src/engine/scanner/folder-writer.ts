import type {Knex} from 'knex'

import type {FolderVersion} from './versions.js'

export interface CurrentFolder {
  folderId: number
  remoteId: string
  version: FolderVersion
}

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
      folderId: Number(row.id),
      remoteId: row.remote_id,
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

/** Appends a folder revision, closing the open one; creates the folder's identity on first sight. */
export async function writeFolderVersion(
  trx: Knex.Transaction,
  accountId: number,
  remoteId: string,
  version: FolderVersion,
  known: Map<string, CurrentFolder>,
): Promise<void> {
  let current = known.get(remoteId)
  let folderId = current?.folderId
  if (folderId === undefined) {
    const [row] = await trx('folders').insert({account_id: accountId, remote_id: remoteId, first_seen: version.validFrom}).returning('id')
    folderId = Number(typeof row === 'object' ? row.id : row)
  } else {
    await trx('folder_revisions').where({folder_id: folderId}).whereNull('valid_to').update({valid_to: version.validFrom})
  }

  await trx('folder_revisions').insert({
    folder_id: folderId,
    valid_from: version.validFrom,
    valid_to: null,
    operation: version.operation,
    path: version.path,
    parent_remote_id: version.parent,
    view: version.view,
    deleted: version.deleted,
    metadata: JSON.stringify(version.metadata),
    txn_seq: version.txnSeq,
  })
  current = {folderId, remoteId, version}
  known.set(remoteId, current)
}
