// The body of a blob reader thread: a batch of blobs at a time, read, decompressed and verified (readBlobSync); each
// content goes back in an ArrayBuffer of its own, transferred rather than copied, and a blob that fails is answered
// with its error, never thrown, so the thread lives on for the next batch.
import type {BlobReadJob, BlobReadResult} from './blob-reader-pool.js'

import {readBlobSync} from './blob-read.js'
import {serveTasks} from './task-threads.js'

serveTasks(({blobs}: {blobs: BlobReadJob[]}) => {
  const results: BlobReadResult[] = []
  const transfer: ArrayBuffer[] = []
  for (const {digest, file} of blobs) {
    try {
      const content = owned(readBlobSync(file, digest))
      transfer.push(content.buffer)
      results.push({content})
    } catch (error) {
      const {code, message} = error as NodeJS.ErrnoException
      results.push({error: {code, message}})
    }
  }

  return {result: results, transfer}
})

/**
 * The content in an ArrayBuffer that holds nothing else (gunzip leaves one spare byte: blob-read.ts): a small Buffer
 * lives in Node's shared pool, which must not be transferred away from this thread.
 */
function owned(content: Buffer): Uint8Array<ArrayBuffer> {
  const {buffer} = content
  if (buffer instanceof ArrayBuffer && content.byteOffset === 0 && buffer.byteLength - content.length <= 1) {
    return new Uint8Array(buffer, 0, content.length)
  }

  const copy = new Uint8Array(content.length)
  copy.set(content)
  return copy
}
