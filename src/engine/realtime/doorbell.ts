import {sleep} from '../sleep.js'

/**
 * Wakes sleeping workers at once: a push rings it so that the account's cycle starts now rather than at the end of
 * the workers' wait.
 */
export class Doorbell {
  private waiters = new Set<() => void>()

  ring(): void {
    const {waiters} = this
    this.waiters = new Set()
    for (const wake of waiters) wake()
  }

  /** Resolves after ms, on a ring, or when the signal fires, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(ms, signal, this.waiters)
  }
}
