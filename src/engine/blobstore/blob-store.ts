import {createHash} from 'node:crypto'
import {open, stat} from 'node:fs/promises'

import {blobPath} from './blob-path.js'
import {readBlob} from './blob-read.js'
import {blobWriters} from './blob-writer-pool.js'

export interface StoredBlob {
  digest: string
  size: number
  /** Bytes on disk after gzip. */
  storedSize: number
  /** False when the blob was already in the store (deduplicated). */
  written: boolean
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

/**
 * The content-addressed blob store: items/<2 hex>/<sha256 of the raw content>, gzip-compressed. A blob is
 * written to a temporary name, fsynced and renamed, so a crash never leaves half a blob under a real name, and
 * it is stored once whatever the number of items, revisions or accounts that point to it.
 */
export class BlobStore {
  constructor(
    readonly home: string,
    private readonly compressionLevel = 6,
  ) {}

  pathOf(digest: string): string {
    return blobPath(this.home, digest)
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.pathOf(digest))
      return true
    } catch {
      return false
    }
  }

  /** Starts the blob writer threads without waiting for them: a caller that knows writes are coming says so early. */
  expectWrites(): void {
    blobWriters().warm()
  }

  /** Stores content under its digest unless it is already there (in a blob writer thread: blob-file-write.ts). */
  async put(content: Buffer, knownDigest?: string): Promise<StoredBlob> {
    const digest = knownDigest ?? sha256(content)
    const {storedSize, written} = await blobWriters().write({
      content, digest, level: this.compressionLevel, target: this.pathOf(digest),
    })
    return {
      digest, size: content.length, storedSize, written,
    }
  }

  /** Reads and decompresses a blob; verifies that the content still hashes to its name (blob-read.ts). */
  async get(digest: string): Promise<Buffer> {
    return readBlob(this.pathOf(digest), digest)
  }

  /** Flushes the directory entries of new blobs, so their renames survive a power loss with the catalog commit. */
  async syncDirectories(dirs: Iterable<string>): Promise<void> {
    // At once: the file system commits concurrent syncs together.
    await Promise.all([...dirs].map(async dir => {
      const handle = await open(dir, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    }))
  }
}
