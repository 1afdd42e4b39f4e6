import {createRequire} from 'node:module'
import {pathToFileURL} from 'node:url'
import {parentPort, type Transferable, Worker} from 'node:worker_threads'

/** What a thread answers: its result, or the error of a task that failed (the thread lives on). */
type Answer<R> = {error: {code?: string; message: string}; id: number} | {id: number; result: R} | {ready: true}

interface Thread<R> {
  pending: Map<number, {reject: (error: Error) => void; resolve: (result: R) => void}>
  /** Set once the thread has loaded its code and answers (serveTasks says so). */
  ready: boolean
  /** Settles when the thread is ready or has died. */
  started: Promise<void>
  worker: Worker
}

/**
 * A few threads running one kind of blocking task (blob-writer-thread.ts, blob-reader-thread.ts): each task is one
 * message each way, so the main thread pays neither the work nor libuv's per-call hand-overs, which on a virtual
 * machine cost about as much as the work. The threads start together on first use and take about 100 ms to; a
 * caller that cannot wait that long asks `whenReady` for undefined and does the task itself meanwhile. A thread
 * that dies fails what it held and leaves the pool; the next task starts another.
 */
export class TaskThreads<J, R> {
  private readonly threads: Array<Thread<R>> = []
  private nextId = 1

  /**
   * `threadModule` is the thread's file without extension, resolved against `base` (the caller's import.meta.url): the
   * compiled .js next to it, or, run from the TypeScript sources (tests, tsx), the .ts through tsx.
   */
  constructor(
    private readonly base: string,
    private readonly threadModule: string,
    private readonly size: number,
  ) {}

  /** Starts the threads and resolves once one of them takes work (or all failed to start). */
  async ready(): Promise<void> {
    this.start()
    await Promise.race(this.threads.map(t => t.started))
  }

  /** Whether a thread can take a task now (they are started if not yet). */
  get available(): boolean {
    this.start()
    return this.threads.some(t => t.ready)
  }

  /** Runs a task on the least busy thread, waiting for the threads to start if none is ready yet. */
  async run(job: J, transfer: readonly Transferable[] = []): Promise<R> {
    if (!this.available) await this.ready()
    const thread = this.leastBusy()
    if (!thread) throw new Error(`no ${this.threadModule} thread could start`)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      thread.pending.set(id, {resolve, reject})
      // A thread with work keeps the process alive until it answers; an idle one never does.
      thread.worker.ref()
      thread.worker.postMessage({id, job}, transfer)
    })
  }

  private start(): void {
    while (this.threads.length < this.size) {
      const thread = this.spawn(() => {
        const index = this.threads.indexOf(thread)
        if (index !== -1) this.threads.splice(index, 1)
      })
      this.threads.push(thread)
    }
  }

  private leastBusy(): Thread<R> | undefined {
    let best: Thread<R> | undefined
    for (const t of this.threads) if (t.ready && (!best || t.pending.size < best.pending.size)) best = t
    return best
  }

  private spawn(retire: () => void): Thread<R> {
    let started = noop
    const thread: Thread<R> = {
      pending: new Map(),
      ready: false,
      started: new Promise<void>(resolve => {
        started = resolve
      }),
      worker: this.worker(),
    }
    thread.worker.on('message', (answer: Answer<R>) => {
      if ('ready' in answer) {
        thread.ready = true
        started()
        return
      }

      const pending = thread.pending.get(answer.id)
      thread.pending.delete(answer.id)
      if (thread.pending.size === 0) thread.worker.unref()
      if (!pending) return
      if ('error' in answer) pending.reject(taskError(answer.error))
      else pending.resolve(answer.result)
    })
    const died = (error: Error) => {
      retire()
      started()
      for (const pending of thread.pending.values()) pending.reject(error)
      thread.pending.clear()
    }

    thread.worker.once('error', died)
    thread.worker.once('exit', code => died(new Error(`a ${this.threadModule} thread ended (exit code ${code})`)))
    // After the listeners: adding a 'message' listener refs the thread again.
    thread.worker.unref()
    return thread
  }

  private worker(): Worker {
    if (!this.base.endsWith('.ts')) return new Worker(new URL(`${this.threadModule}.js`, this.base))
    const file = new URL(`${this.threadModule}.ts`, this.base).href
    // Threads do not inherit the main thread's module hooks: the thread registers tsx's own (its ESM API, next to
    // the loader that `node --import tsx` runs).
    const api = new URL('esm/api/index.mjs', pathToFileURL(createRequire(file).resolve('tsx'))).href
    return new Worker(`import(${JSON.stringify(api)}).then(tsx => { tsx.register(); return import(${JSON.stringify(file)}) })`, {eval: true})
  }
}

function noop(): void {}

/** How many threads of a kind: the environment variable when it holds a positive integer, else the default. */
export function threadCount(variable: string, fallback: number): number {
  const configured = Number(process.env[variable])
  return Number.isInteger(configured) && configured > 0 ? configured : fallback
}

/** The Error of a task that failed in a thread, with its code (ENOENT, EACCES...) kept. */
export function taskError(error: {code?: string; message: string}): NodeJS.ErrnoException {
  return Object.assign(new Error(error.message), {code: error.code})
}

/**
 * The thread's side: says it is ready, then runs each task in the order posted and answers it; a task that throws
 * is answered with its error. `work` may name buffers to transfer back instead of copying them.
 */
export function serveTasks<J, R>(work: (job: J) => {result: R; transfer?: Transferable[]}): void {
  const port = parentPort!
  port.postMessage({ready: true})
  port.on('message', ({id, job}: {id: number; job: J}) => {
    try {
      const {result, transfer} = work(job)
      port.postMessage({id, result}, transfer ?? [])
    } catch (error) {
      const {code, message} = error as NodeJS.ErrnoException
      port.postMessage({id, error: {code, message}})
    }
  })
}
