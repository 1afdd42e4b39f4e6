import {availableParallelism} from 'node:os'

import {blobPath} from './blob-path.js'
import {taskError, TaskThreads, threadCount} from './task-threads.js'

export interface BlobReadJob {
  digest: string
  file: string
}

export type BlobReadResult = {content: Uint8Array} | {error: {code?: string; message: string}}

/**
 * Threads that read blobs a batch at a time (blob-reader-thread.ts), for a restore that needs thousands. On the main
 * thread, every blob cost a file read and a gunzip handed to libuv's pool, and on a virtual machine each hand-over
 * (a thread woken) cost about as much CPU as the inflate itself; a batch costs one message each way, the content
 * moves back without a copy, and the main thread is left to the IMAP connection. Two threads: one batch being read
 * while the next is, on the two cores of a small server. CARBONIO_BACKUP_BLOB_READERS sets their number.
 */
export class BlobReaderPool {
  private readonly threads: TaskThreads<{blobs: BlobReadJob[]}, BlobReadResult[]>

  constructor(size = defaultSize()) {
    this.threads = new TaskThreads(import.meta.url, 'blob-reader-thread', size)
  }

  /** The contents of the blobs, in order; a blob that cannot be read gives its error instead (ENOENT: missing). */
  async read(home: string, digests: readonly string[]): Promise<Array<Buffer | NodeJS.ErrnoException>> {
    if (digests.length === 0) return []
    const blobs = digests.map(digest => ({digest, file: blobPath(home, digest)}))
    const results = await this.threads.run({blobs})
    return results.map(result => ('content' in result
      ? Buffer.from(result.content.buffer, result.content.byteOffset, result.content.byteLength)
      : taskError(result.error)))
  }
}

let shared: BlobReaderPool | undefined

/** The process's pool: every restore of the process shares its threads. */
export function blobReaders(): BlobReaderPool {
  shared ??= new BlobReaderPool()
  return shared
}

function defaultSize(): number {
  return threadCount('CARBONIO_BACKUP_BLOB_READERS', Math.min(2, availableParallelism()))
}
