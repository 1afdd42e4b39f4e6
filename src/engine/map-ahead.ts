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
export async function * mapAhead<J, R>(jobs: Iterable<J>, read: (job: J) => Promise<R>, depth: number): AsyncGenerator<R> {
  const iterator = jobs[Symbol.iterator]()
  const pending: Array<Promise<R>> = []
  const fill = () => {
    while (pending.length < Math.max(1, depth)) {
      const next = iterator.next()
      if (next.done) return
      const reading = read(next.value)
      reading.catch(() => {})
      pending.push(reading)
    }
  }

  try {
    fill()
    while (pending.length > 0) {
      const result = await pending[0]
      pending.shift()
      fill()
      yield result
    }
  } finally {
    await Promise.allSettled(pending)
  }
}
