import {throwIfAborted} from '../errors.js'

/**
 * Runs `work` over `inputs` with at most `limit` calls in flight and returns the results in input order. The
 * signal is checked before each call, so a stop takes effect after the blobs already being read.
 */
export async function mapBounded<T, R>(
  inputs: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (input: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = Array.from({length: inputs.length})
  let next = 0
  const worker = async () => {
    while (next < inputs.length) {
      throwIfAborted(signal)
      const index = next++
      results[index] = await work(inputs[index])
    }
  }

  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, inputs.length))}, worker))
  return results
}
