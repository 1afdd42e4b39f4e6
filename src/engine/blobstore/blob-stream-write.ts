import {createHash} from 'node:crypto'
import {
  open, rename, rm, stat,
} from 'node:fs/promises'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'

import {makeDirectory} from '../make-directory.js'
import {compressionOptions} from './blob-compression.js'
import {temporaryPath} from './blob-temporary.js'

export interface BlobStreamJob {
  chunks: AsyncIterable<Uint8Array>
  level: number
  /** items/.tmp/ of the store: where the file is written before its rename. */
  temporaryDir: string
  /** Where the blob of a digest lives (BlobStore.pathOf). */
  targetOf: (digest: string) => string
  /** The content must be exactly this long (the size the server announced): anything else is not published. */
  expectedSize?: number
  /** ... and hash to this (a redolog's announced digest). */
  expectedDigest?: string
}

export type BlobStreamResult
  = | {digest: string; ok: true; size: number; storedSize: number; written: boolean}
  | {digest: string; ok: false; size: number}

/**
 * A content at least this large is stored (or hashed) as it arrives rather than held whole: a SmartScan's new or
 * verified message, a redolog content file, a live message a restore preview compares. Read whole, a 30 MB message took
 * about 110 MB of memory (3.6 times its size) while it travelled, in each account transferring.
 */
export const LARGE_CONTENT_BYTES = 4 * 1024 * 1024

// The digest is known only at the end: the temporary's name carries this one (the sweep of leftovers parses it).
const UNKNOWN_DIGEST = '0'.repeat(64)

/**
 * Writes a blob from a stream of chunks without ever holding the whole content: hashed and gzipped as it comes (gzip
 * on libuv's threads), into a temporary file, fsynced, then published under its digest by a rename, or dropped if
 * the store has that blob already. A content that is not the announced size or digest (a message expunged while it
 * was read, a file that changed) is never published: `ok` false, nothing left behind. Large messages take this way
 * (BlobStore.putStream); a blob writer thread takes whole buffers, which costs a message's size several times over
 * in memory while it travels.
 */
export async function writeBlobStream(job: BlobStreamJob): Promise<BlobStreamResult> {
  // Level by level, for EROFS on a read-only volume (see blob-file-write.ts).
  makeDirectory(job.temporaryDir, 0o700)
  const temporary = temporaryPath(job.temporaryDir, UNKNOWN_DIGEST)
  const hash = createHash('sha256')
  let size = 0
  let published = false
  const handle = await open(temporary, 'wx', 0o600)
  try {
    // The compression strategy is chosen from the first chunk (blob-compression.ts samples its lines).
    const iterator = job.chunks[Symbol.asyncIterator]()
    const first = await iterator.next()
    const head = first.done ? Buffer.alloc(0) : asBuffer(first.value)
    async function * hashed(): AsyncGenerator<Buffer> {
      try {
        for (let next = first; !next.done; next = await iterator.next()) {
          const chunk = next === first ? head : asBuffer(next.value)
          hash.update(chunk)
          size += chunk.length
          yield chunk
        }
      } finally {
        await iterator.return?.()
      }
    }

    await pipeline(hashed(), createGzip({...compressionOptions(head, job.level), chunkSize: 256 * 1024}), async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) await handle.write(chunk)
    })
    const digest = hash.digest('hex')
    if ((job.expectedSize !== undefined && size !== job.expectedSize) || (job.expectedDigest !== undefined && digest !== job.expectedDigest)) {
      return {ok: false, digest, size}
    }

    const target = job.targetOf(digest)
    const existing = await stat(target).catch(() => {})
    if (existing) return {
      ok: true, digest, size, storedSize: existing.size, written: false,
    }

    // The rename below must never publish a blob whose bytes are not yet on disk.
    await handle.sync()
    const storedSize = (await handle.stat()).size
    makeDirectory(path.dirname(target), 0o700)
    await rename(temporary, target)
    published = true
    return {
      ok: true, digest, size, storedSize, written: true,
    }
  } finally {
    await handle.close().catch(() => {})
    if (!published) await rm(temporary, {force: true})
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The digest and length of a content that arrives in chunks, for blobless mode (nothing is stored). */
export async function hashStream(chunks: AsyncIterable<Uint8Array>): Promise<{digest: string; size: number}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of chunks) {
    hash.update(chunk)
    size += chunk.length
  }

  return {digest: hash.digest('hex'), size}
}
