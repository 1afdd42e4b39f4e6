/**
 * The results of `read` over `jobs`, in order, with up to `depth` jobs being read ahead of the one the consumer is
 * at: a restore reads (file reads, gunzip) the next groups of messages while the current one is being appended, and
 * the reading runs on from one folder into the next instead of starting cold in each; a SmartScan fetches the next
 * bodies while the current ones are hashed and stored. (The scanner's readAhead does the same for an async source.)
 *
 * A read that fails is seen when the consumer reaches it, and never counts as an unhandled rejection while an earlier
 * one is awaited. When the consumer stops early (an error, an abort), the reads under way are waited for, so that
 * nothing still reads once the restore has closed its sources.
 *
 * @yields each job's result, in the order of the jobs
 */
export async function * mapAhead<J, R>(jobs: AsyncIterable<J> | Iterable<J>, read: (job: J) => Promise<R>, depth: number): AsyncGenerator<R> {
  // Jobs may themselves be read as they are asked for (a restore's groups come from the catalog page by page): each
  // pending entry is the next job's taking and its read, chained, and past the last job an entry holds NO_JOB.
  const iterator = Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : fromSync(jobs)
  const pending: Array<Promise<R | typeof NO_JOB>> = []
  let exhausted = false
  const fill = () => {
    if (exhausted) return
    while (pending.length < Math.max(1, depth)) {
      const reading = iterator.next().then(async (next): Promise<R | typeof NO_JOB> => (next.done ? NO_JOB : read(next.value)))
      reading.catch(() => {})
      pending.push(reading)
    }
  }

  try {
    fill()
    while (pending.length > 0) {
      const result = await pending[0]
      pending.shift()
      if (result === NO_JOB) {
        exhausted = true
        continue
      }

      fill()
      yield result
    }
  } finally {
    await Promise.allSettled(pending)
    // A source of jobs left early (an error, an abort) is closed: its reads of the catalog stop.
    if (!exhausted) await iterator.return?.()
  }
}

const NO_JOB = Symbol('no job')

function fromSync<J>(jobs: Iterable<J>): AsyncIterator<J> {
  const iterator = jobs[Symbol.iterator]()
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? {done: true, value: undefined},
  }
}
