import {createRequire} from 'node:module'
import {availableParallelism} from 'node:os'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import {type BlobFileJob, type BlobFileResult, writeBlobFile} from './blob-file-write.js'

interface Pending {
  resolve: (result: BlobFileResult) => void
  reject: (error: Error) => void
}

interface Writer {
  pending: Map<number, Pending>
  /** Set once the thread has loaded its code and answers (blob-writer-thread.ts says so). */
  ready: boolean
  /** Settles when the thread is ready or has died. */
  started: Promise<void>
  worker: Worker
}

type ThreadMessage = {error?: {code?: string; message: string}; id: number; result?: BlobFileResult} | {ready: true}

/**
 * Threads that write blob files (blob-file-write.ts). On the main thread, gzip, the file calls and the fsync of each
 * new blob cost a libuv round trip apiece and took most of an initial capture's CPU there, while IMAP parsing and the
 * catalog waited; in a thread of their own they run beside it. CARBONIO_BACKUP_BLOB_WRITERS sets their number
 * (default: the cores, at most 4, at least 2 so that one fsync does not hold up the next gzip). Each thread costs
 * about 25 MB of resident memory (its heap and its malloc arena).
 *
 * A thread takes about 100 ms to start: until one is ready, a blob is written on the calling thread, so that a
 * scan storing a handful of new messages does not wait for threads it hardly needs.
 */
export class BlobWriterPool {
  private readonly writers: Writer[] = []
  private nextId = 1

  constructor(private readonly size = defaultSize()) {}

  async write(job: BlobFileJob): Promise<BlobFileResult> {
    this.start()
    const writer = this.leastBusy()
    if (!writer) return writeBlobFile(job)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      writer.pending.set(id, {resolve, reject})
      // A thread with work keeps the process alive until it answers; an idle one never does.
      writer.worker.ref()
      writer.worker.postMessage({id, ...job})
    })
  }

  /** Starts the threads and resolves once one of them takes work (or failed to start). */
  async ready(): Promise<void> {
    this.start()
    await Promise.race(this.writers.map(w => w.started))
  }

  /** Starts the missing threads (all at once: each start is mostly waiting). */
  private start(): void {
    while (this.writers.length < this.size) {
      // A thread that died leaves the pool at once, so that no more work is posted to it; the next write starts
      // another.
      const writer = startWriter(() => {
        const index = this.writers.indexOf(writer)
        if (index !== -1) this.writers.splice(index, 1)
      })
      this.writers.push(writer)
    }
  }

  private leastBusy(): undefined | Writer {
    let best: undefined | Writer
    for (const writer of this.writers) if (writer.ready && (!best || writer.pending.size < best.pending.size)) best = writer
    return best
  }
}

let shared: BlobWriterPool | undefined

/** The process's pool: every blob store of the process shares its threads. */
export function blobWriters(): BlobWriterPool {
  shared ??= new BlobWriterPool()
  return shared
}

function defaultSize(): number {
  const configured = Number(process.env.CARBONIO_BACKUP_BLOB_WRITERS)
  if (Number.isInteger(configured) && configured > 0) return configured
  return Math.min(4, Math.max(2, availableParallelism()))
}

function startWriter(retire: () => void): Writer {
  const {promise, resolve: started} = settledOnce()
  const writer: Writer = {
    pending: new Map(), ready: false, started: promise, worker: spawnThread(),
  }
  writer.worker.on('message', (message: ThreadMessage) => {
    if ('ready' in message) {
      writer.ready = true
      started()
      return
    }

    const pending = writer.pending.get(message.id)
    writer.pending.delete(message.id)
    if (writer.pending.size === 0) writer.worker.unref()
    if (!pending) return
    if (message.error) pending.reject(Object.assign(new Error(message.error.message), {code: message.error.code}))
    else pending.resolve(message.result!)
  })
  const died = (error: Error) => {
    // The thread itself died (not a failed write, which is answered): fail what it held.
    retire()
    started()
    for (const pending of writer.pending.values()) pending.reject(error)
    writer.pending.clear()
  }

  writer.worker.once('error', died)
  writer.worker.once('exit', code => died(new Error(`a blob writer thread ended (exit code ${code})`)))
  // After the listeners: adding a 'message' listener refs the thread again.
  writer.worker.unref()
  return writer
}

function noop(): void {}

function settledOnce(): {promise: Promise<void>; resolve: () => void} {
  let resolve = noop
  const promise = new Promise<void>(done => {
    resolve = done
  })
  return {promise, resolve}
}

/** The compiled thread next to this file; from the TypeScript sources (tests, tsx), the same file through tsx. */
function spawnThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('blob-writer-thread.js', import.meta.url))
  const thread = new URL('blob-writer-thread.ts', import.meta.url).href
  // Threads do not inherit the main thread's module hooks: the thread registers tsx's own (its ESM API, next to
  // the loader that `node --import tsx` runs).
  const api = new URL('esm/api/index.mjs', pathToFileURL(createRequire(thread).resolve('tsx'))).href
  return new Worker(`import(${JSON.stringify(api)}).then(tsx => { tsx.register(); return import(${JSON.stringify(thread)}) })`, {eval: true})
}
