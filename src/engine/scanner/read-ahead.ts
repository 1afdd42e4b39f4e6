/**
 * Iterates `source` one step ahead: while the caller works on one value (the scanner applying a batch, mostly
 * waiting for SQLite on its own thread), the next value is already being produced (the feed reading and parsing
 * the next lines on the main thread). At most one value is held in advance, so memory stays bounded to two
 * batches. Stopping early (a break, or the caller's failure) first calls `abortRead`, so that a step waiting for
 * new data (a feed following its log) ends now, then returns the source, as a plain for-await would.
 */
export async function * readAhead<T>(source: AsyncIterable<T>, abortRead: () => void): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]()
  let next = iterator.next()
  let finished = false
  try {
    while (true) {
      const result = await next
      if (result.done) {
        finished = true
        return
      }

      next = iterator.next()
      // A failure of the step read ahead surfaces when it is awaited, not as an unhandled rejection meanwhile.
      next.catch(() => {})
      yield result.value
    }
  } finally {
    if (!finished) {
      abortRead()
      // Let the step in flight settle before returning the source: an async generator runs one step at a time.
      await next.catch(() => {})
      await iterator.return?.()
    }
  }
}
