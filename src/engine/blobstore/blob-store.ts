import {createHash, randomBytes} from 'node:crypto'
import {
  mkdir, open, readFile, rename, rm, stat,
} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'
import {gunzip} from 'node:zlib'

import {compress} from './blob-compression.js'
import {blobPath} from './blob-path.js'

const gunzipAsync = promisify(gunzip)

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
  private readonly knownDirs = new Set<string>()

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

  /** Stores content under its digest unless it is already there. */
  async put(content: Buffer, knownDigest?: string): Promise<StoredBlob> {
    const digest = knownDigest ?? sha256(content)
    const target = this.pathOf(digest)
    try {
      const existing = await stat(target)
      return {
        digest, size: content.length, storedSize: existing.size, written: false,
      }
    } catch {
      // Not there yet: write it.
    }

    const compressed = await compress(content, this.compressionLevel)
    const dir = path.dirname(target)
    if (!this.knownDirs.has(dir)) {
      await mkdir(dir, {recursive: true, mode: 0o700})
      this.knownDirs.add(dir)
    }

    const temporary = path.join(dir, `.tmp-${digest}-${process.pid}-${randomBytes(4).toString('hex')}`)
    const file = await open(temporary, 'wx', 0o600)
    try {
      await file.writeFile(compressed)
      // The rename below must never publish a blob whose bytes are not yet on disk.
      await file.sync()
    } finally {
      await file.close()
    }

    try {
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, {force: true})
      throw error
    }

    return {
      digest, size: content.length, storedSize: compressed.length, written: true,
    }
  }

  /** Reads and decompresses a blob; verifies that the content still hashes to its name. */
  async get(digest: string): Promise<Buffer> {
    const content = await gunzipAsync(await readFile(this.pathOf(digest)))
    if (sha256(content) !== digest) throw new Error(`blob ${digest} is corrupt: its content no longer hashes to its name`)
    return content
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
