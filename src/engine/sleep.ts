/**
 * Waits ms, or less: the wait ends at once when the signal fires, or when one of `wakers` is called (a waiter is
 * added to the set for the wait and removed again when it ends, however it ends). The timer and the abort listener go
 * with the wait: the loops that wait run for weeks on one signal and must not pile listeners up on it.
 */
export function sleep(ms: number, signal?: AbortSignal, wakers?: Set<() => void>): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      wakers?.delete(done)
      resolve()
    }

    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
    wakers?.add(done)
  })
}
