import {availableParallelism} from 'node:os'

import {type BlobFileJob, type BlobFileResult, writeBlobFile} from './blob-file-write.js'
import {TaskThreads, threadCount} from './task-threads.js'

/**
 * Threads that write blob files (blob-file-write.ts). On the main thread, gzip, the file calls and the fsync of each
 * new blob cost a libuv round trip apiece and took most of an initial capture's CPU there, while IMAP parsing and the
 * catalog waited; in a thread of their own they run beside it. CARBONIO_BACKUP_BLOB_WRITERS sets their number
 * (default: the cores, at most 4, at least 2 so that one fsync does not hold up the next gzip). Each thread costs
 * about 25 MB of resident memory (its heap and its malloc arena).
 *
 * Until a thread is ready (about 100 ms after the first blob), a blob is written on the calling thread, so that a
 * scan storing a handful of new messages does not wait for threads it hardly needs.
 */
export class BlobWriterPool {
  private readonly threads: TaskThreads<BlobFileJob, BlobFileResult>

  constructor(size = defaultSize()) {
    this.threads = new TaskThreads(import.meta.url, 'blob-writer-thread', size)
  }

  async ready(): Promise<void> {
    await this.threads.ready()
  }

  /** Starts the threads, if not yet, without waiting for them. */
  warm(): void {
    // A thread that cannot start settles ready() too (write() then writes inline): nothing to wait for or report.
    this.threads.ready().catch(() => {})
  }

  async write(job: BlobFileJob): Promise<BlobFileResult> {
    return this.threads.available ? this.threads.run(job) : writeBlobFile(job)
  }
}

let shared: BlobWriterPool | undefined

/** The process's pool: every blob store of the process shares its threads. */
export function blobWriters(): BlobWriterPool {
  shared ??= new BlobWriterPool()
  return shared
}

function defaultSize(): number {
  return threadCount('CARBONIO_BACKUP_BLOB_WRITERS', Math.min(4, Math.max(2, availableParallelism())))
}
