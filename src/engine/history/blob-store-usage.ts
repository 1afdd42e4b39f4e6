import {opendir, stat} from 'node:fs/promises'
import path from 'node:path'

export interface BlobStoreUsage {
  /** Blob files under items/ (temporary files of interrupted writes not included). */
  files: number
  /** Their size on disk (gzip). */
  bytes: number
}

const BLOB_NAME = /^[0-9a-f]{64}$/

/** What the blob store takes on disk, by walking items/<2 hex>/ (directory by directory: memory stays flat). */
export async function blobStoreUsage(home: string): Promise<BlobStoreUsage> {
  const usage: BlobStoreUsage = {files: 0, bytes: 0}
  const root = path.join(home, 'items')
  let shards
  try {
    shards = await opendir(root)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return usage
    throw error
  }

  for await (const shard of shards) {
    if (!shard.isDirectory()) continue
    for await (const entry of await opendir(path.join(root, shard.name))) {
      if (!entry.isFile() || !BLOB_NAME.test(entry.name)) continue
      try {
        usage.bytes += (await stat(path.join(root, shard.name, entry.name))).size
        usage.files++
      } catch (error) {
        // A purge removed it between the listing and the stat.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
  }

  return usage
}
