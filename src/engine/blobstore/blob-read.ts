import {constants} from 'node:buffer'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {promisify} from 'node:util'
import {gunzip, gunzipSync} from 'node:zlib'

const gunzipAsync = promisify(gunzip)

/**
 * Deflate's largest expansion: no stream of n bytes inflates to more than about 1032 n. A trailer announcing more lies
 * (a damaged file), and is not allowed to make us allocate what it claims.
 */
const MAX_INFLATE_RATIO = 1032
/** zlib's smallest chunk. */
const MIN_CHUNK = 64

/**
 * Reads a blob file, decompresses it and verifies that the content still hashes to its digest, with one synchronous
 * read (a blob file is small; readFile's four libuv round trips cost more CPU than the read) and one gunzip on the
 * thread pool into one buffer of the size the gzip trailer announces (zlib's 16 KiB chunks cost a round trip each,
 * and a concatenation). Many blobs at once go to readBlobs() (blob-reader-pool.ts) instead.
 */
export async function readBlob(file: string, digest: string): Promise<Buffer> {
  const compressed = readFileSync(file)
  return verified(await gunzipAsync(compressed, {chunkSize: outputChunk(compressed)}), digest)
}

/** readBlob() without leaving the thread: for a blob reader thread, which has nothing else to do meanwhile. */
export function readBlobSync(file: string, digest: string): Buffer {
  const compressed = readFileSync(file)
  return verified(gunzipSync(compressed, {chunkSize: outputChunk(compressed)}), digest)
}

function verified(content: Buffer, digest: string): Buffer {
  if (createHash('sha256').update(content).digest('hex') !== digest) {
    throw new Error(`blob ${digest} is corrupt: its content no longer hashes to its name`)
  }

  return content
}

/**
 * One byte more than the uncompressed size in the gzip trailer (ISIZE, RFC 1952): a chunk that ends exactly full
 * makes zlib ask for another whole chunk to see that nothing follows. One chunk whatever the size: content in several
 * chunks is concatenated at the end, which held a large message three times over (compressed, the chunks, the
 * result: 280 MB above the process for a 100 MB message) where one chunk holds it twice.
 */
export function outputChunk(compressed: Buffer): number {
  if (compressed.length < 18) return MIN_CHUNK
  const announced = compressed.readUInt32LE(compressed.length - 4) + 1
  return Math.min((compressed.length * MAX_INFLATE_RATIO) + MIN_CHUNK, constants.MAX_LENGTH, Math.max(MIN_CHUNK, announced))
}
