import {createHash} from 'node:crypto'
import {open, stat} from 'node:fs/promises'
import path from 'node:path'

import {blobPath} from './blob-path.js'
import {readBlob} from './blob-read.js'
import {type BlobStreamResult, writeBlobStream} from './blob-stream-write.js'
import {sweepTemporaries, TEMPORARY_DIR, type TemporarySweep} from './blob-temporary.js'
import {blobWriters} from './blob-writer-pool.js'
import {VolumeHeadroom} from './volume-headroom.js'

export interface StoredBlob {
  digest: string
  size: number
  /** Bytes on disk after gzip. */
  storedSize: number
  /** False when the blob was already in the store (deduplicated). */
  written: boolean
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

const EMPTY_DIGEST = sha256(Buffer.alloc(0))

/** The sweep of each items/.tmp/ this process wrote to: once per process, whatever the number of BlobStores. */
const sweeps = new Map<string, Promise<TemporarySweep>>()

/**
 * The content-addressed blob store: items/<2 hex>/<sha256 of the raw content>, gzip-compressed. A blob is
 * written to a temporary name in items/.tmp/, fsynced and renamed, so a crash never leaves half a blob under a
 * real name, and it is stored once whatever the number of items, revisions or accounts that point to it. What a
 * crash leaves in items/.tmp/ goes when a later process first writes (blob-temporary.ts).
 */
export class BlobStore {
  readonly temporaryDir: string
  private readonly headroom: VolumeHeadroom

  constructor(
    readonly home: string,
    private readonly compressionLevel = 6,
  ) {
    this.temporaryDir = path.join(home, 'items', TEMPORARY_DIR)
    this.headroom = new VolumeHeadroom(home)
  }

  /**
   * Refuses (HeadroomExhausted) what would eat into the space kept free on the backup's volume for doPurge and
   * restores: every blob written, and each batch of the catalog (a capture without blobs grows the catalog alone).
   */
  ensureHeadroom(bytesToWrite = 0): void {
    this.headroom.check(bytesToWrite)
  }

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
    this.sweepTemporaries()
  }

  /**
   * Removes the temporary files that crashed writers left in items/.tmp/ (blob-temporary.ts says which), the first
   * time this process writes to the store; later calls return the same sweep. Writes do not wait for it: they
   * never collide with it, since it spares this process's files and those of any live or unknown writer.
   */
  sweepTemporaries(): Promise<TemporarySweep> {
    let sweep = sweeps.get(this.temporaryDir)
    if (!sweep) {
      sweep = sweepTemporaries(this.temporaryDir)
      sweeps.set(this.temporaryDir, sweep)
    }

    return sweep
  }

  /**
   * Stores content under its digest unless it is already there (in a blob writer thread: blob-file-write.ts). With
   * `lend`, the caller's buffer may move to the thread instead of being copied (blob-writer-pool.ts): it is empty after
   * the call, and the returned `content` holds the bytes.
   */
  async put(content: Buffer, knownDigest?: string, {lend = false} = {}): Promise<StoredBlob & {content: Buffer}> {
    const digest = knownDigest ?? sha256(content)
    const size = content.length
    // A lent buffer is empty once moved: one passed again by mistake must never become an empty blob under a digest.
    if (size === 0 && digest !== EMPTY_DIGEST) throw new Error(`blob ${digest}: no bytes to store (a buffer already lent to a writer thread?)`)
    this.ensureHeadroom(size)
    this.sweepTemporaries()
    const written = await blobWriters().write({
      content, digest, level: this.compressionLevel, target: this.pathOf(digest), temporaryDir: this.temporaryDir,
    }, lend)
    return {
      digest, size, storedSize: written.storedSize, written: written.written, content: asBuffer(written.content),
    }
  }

  /**
   * Stores a content that arrives in chunks (a large message) without holding it whole: see writeBlobStream. Not
   * published, and `ok` false, when it is not `expected` (the size the server announced, a digest).
   */
  async putStream(chunks: AsyncIterable<Uint8Array>, expected: {digest?: string; size?: number} = {}): Promise<BlobStreamResult> {
    this.ensureHeadroom(expected.size)
    this.sweepTemporaries()
    return writeBlobStream({
      chunks, level: this.compressionLevel, temporaryDir: this.temporaryDir, targetOf: digest => this.pathOf(digest),
      expectedDigest: expected.digest, expectedSize: expected.size,
    })
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
