import {availableParallelism} from 'node:os'

import {type BlobFileJob, type BlobFileResult, writeBlobFileAside} from './blob-file-write.js'
import {TaskThreads, threadCount} from './task-threads.js'

/**
 * Threads that write blob files (blob-file-write.ts). On the main thread, gzip, the file calls and the fsync of each
 * new blob cost a libuv round trip apiece and took most of an initial capture's CPU there, while IMAP parsing and the
 * catalog waited; in a thread of their own they run beside it. CARBONIO_BACKUP_BLOB_WRITERS sets their number
 * (default: the cores, at most 4, at least 2 so that one fsync does not hold up the next gzip). Each thread costs
 * about 25 MB of resident memory (its heap and its malloc arena).
 *
 * Until a thread is ready (about 100 ms after the first blob), a blob is written on the calling thread, its fsync
 * waited for aside (writeBlobFileAside), so that a scan storing a handful of new messages does not wait for threads
 * it hardly needs.
 */
export class BlobWriterPool {
  private readonly threads: TaskThreads<BlobFileJob & {lent?: boolean}, BlobFileResult>

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

  /**
   * Writes a blob in a thread (or here, until one is ready). With `lend`, `job.content` moves to the thread and back
   * instead of being copied twice (which cost the main thread of an initial capture about a tenth of its time) when
   * it owns all of its memory: the caller must then use the returned `content`, never the one it passed, which is
   * empty from the moment of the call (and stays empty if the thread dies with it: the write fails then).
   */
  async write(job: BlobFileJob, lend = false): Promise<BlobFileResult & {content: Uint8Array}> {
    if (!this.threads.available) return {...await writeBlobFileAside(job), content: job.content}
    if (!lend || !ownsItsMemory(job.content)) return {...await this.threads.run(job), content: job.content}
    return this.threads.run({...job, lent: true}, [job.content.buffer as ArrayBuffer]) as Promise<BlobFileResult & {content: Uint8Array}>
  }
}

/**
 * Whether the bytes are the whole of their ArrayBuffer. Moving a buffer moves all of its memory: a slice of a shared
 * one (Node's pool for buffers under 4 KB, a socket chunk) would take its neighbours along, so those are copied.
 */
function ownsItsMemory(content: Uint8Array): boolean {
  return content.byteOffset === 0 && content.byteLength === content.buffer.byteLength && content.buffer instanceof ArrayBuffer
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
