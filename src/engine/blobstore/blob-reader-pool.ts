import {createRequire} from 'node:module'
import {availableParallelism} from 'node:os'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import {blobPath} from './blob-path.js'

export interface BlobReadJob {
  digest: string
  file: string
}

export type BlobReadResult = {content: Uint8Array} | {error: {code?: string; message: string}}

interface Reader {
  pending: Map<number, {reject: (error: Error) => void; resolve: (results: BlobReadResult[]) => void}>
  worker: Worker
}

/**
 * Threads that read blobs a batch at a time (blob-reader-thread.ts), for a restore that needs thousands. On the main
 * thread, every blob cost a file read and a gunzip handed to libuv's pool, and on a virtual machine each hand-over
 * (a thread woken) cost about as much CPU as the inflate itself; a batch costs one message each way, the content
 * moves back without a copy, and the main thread is left to the IMAP connection. Two threads: one batch being read
 * while the next is, on the two cores of a small server. CARBONIO_BACKUP_BLOB_READERS sets their number.
 */
export class BlobReaderPool {
  private readonly readers: Reader[] = []
  private nextId = 1

  constructor(private readonly size = defaultSize()) {}

  /** The contents of the blobs, in order; a blob that cannot be read gives its error instead (ENOENT: missing). */
  async read(home: string, digests: readonly string[]): Promise<Array<Buffer | NodeJS.ErrnoException>> {
    if (digests.length === 0) return []
    const blobs = digests.map(digest => ({digest, file: blobPath(home, digest)}))
    const reader = this.leastBusy()
    const id = this.nextId++
    const results = await new Promise<BlobReadResult[]>((resolve, reject) => {
      reader.pending.set(id, {resolve, reject})
      // A thread with work keeps the process alive until it answers; an idle one never does.
      reader.worker.ref()
      reader.worker.postMessage({id, blobs})
    })
    return results.map(result => ('content' in result
      ? Buffer.from(result.content.buffer, result.content.byteOffset, result.content.byteLength)
      : Object.assign(new Error(result.error.message), {code: result.error.code})))
  }

  private leastBusy(): Reader {
    const idle = this.readers.find(r => r.pending.size === 0)
    if (idle) return idle
    if (this.readers.length < this.size) {
      const reader = startReader(() => {
        const index = this.readers.indexOf(reader)
        if (index !== -1) this.readers.splice(index, 1)
      })
      this.readers.push(reader)
      return reader
    }

    let best = this.readers[0]
    for (const reader of this.readers) if (reader.pending.size < best.pending.size) best = reader
    return best
  }
}

let shared: BlobReaderPool | undefined

/** The process's pool: every restore of the process shares its threads. */
export function blobReaders(): BlobReaderPool {
  shared ??= new BlobReaderPool()
  return shared
}

function defaultSize(): number {
  const configured = Number(process.env.CARBONIO_BACKUP_BLOB_READERS)
  if (Number.isInteger(configured) && configured > 0) return configured
  return Math.min(2, availableParallelism())
}

function startReader(retire: () => void): Reader {
  const reader: Reader = {pending: new Map(), worker: spawnThread()}
  reader.worker.unref()
  reader.worker.on('message', ({id, results}: {id: number; results: BlobReadResult[]}) => {
    const pending = reader.pending.get(id)
    reader.pending.delete(id)
    if (reader.pending.size === 0) reader.worker.unref()
    pending?.resolve(results)
  })
  const died = (error: Error) => {
    // The thread itself died (not a blob that failed, which is answered): fail what it held, and leave the pool.
    retire()
    for (const pending of reader.pending.values()) pending.reject(error)
    reader.pending.clear()
  }

  reader.worker.once('error', died)
  reader.worker.once('exit', code => died(new Error(`a blob reader thread ended (exit code ${code})`)))
  return reader
}

/** The compiled thread next to this file; from the TypeScript sources (tests, tsx), the same file through tsx. */
function spawnThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('blob-reader-thread.js', import.meta.url))
  const thread = new URL('blob-reader-thread.ts', import.meta.url).href
  // Threads do not inherit the main thread's module hooks: the thread registers tsx's own (as blob-writer-pool.ts).
  const api = new URL('esm/api/index.mjs', pathToFileURL(createRequire(thread).resolve('tsx'))).href
  return new Worker(`import(${JSON.stringify(api)}).then(tsx => { tsx.register(); return import(${JSON.stringify(thread)}) })`, {eval: true})
}
