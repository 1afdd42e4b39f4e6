// One form for an item's state as the reference model, a point-in-time read of the backup and an export's
// items.ndjson each give it, so that the model tests compare them with deepEqual.
import type {ItemAt as BackupItemAt} from '../../src/engine/history/state-at.js'

export interface ItemFields {
  id: string
  type: string
  folder: null | string
  flags: readonly string[]
  tags: readonly string[]
  metadata: unknown
  digest?: null | string
  size?: null | number
}

export function comparableItem(item: ItemFields): Record<string, unknown> {
  return {
    id: item.id,
    type: item.type,
    folder: item.folder,
    flags: [...item.flags],
    tags: [...item.tags],
    metadata: item.metadata,
    digest: item.digest ?? undefined,
    size: item.size ?? undefined,
  }
}

/** A point-in-time read names the content blobDigest. */
export function comparableBackupItem(item: BackupItemAt): Record<string, unknown> {
  return comparableItem({...item, digest: item.blobDigest})
}
