/**
 * At most `limit` accounts of a SmartScan transferring message bodies at once. Accounts with nothing new (most of
 * a scheduled sweep) only log in and compare folder statuses, so many of them may run side by side; an account
 * takes a slot before its first body FETCH and keeps it until its scan ends, because the bodies it fetched stay
 * in memory until its batches are applied: memory stays bounded by `limit` accounts' batches, however many run.
 */
export class TransferSlots {
  private free: number
  private readonly waiting: Array<() => void> = []

  constructor(limit: number) {
    this.free = limit
  }

  /** One account's claim on a slot: taken on first need (later takes wait for the same slot), released once. */
  claim(): {release: () => void; take: () => Promise<void>} {
    let taking: Promise<void> | undefined
    let held = false
    let released = false
    return {
      // Arrow functions: the claim's methods are handed around unbound.
      take: () => {
        taking ??= this.acquire().then(() => {
          // Released while it waited (the scan failed or stopped): hand the slot on at once.
          if (released) this.release()
          else held = true
        })
        return taking
      },
      release: () => {
        if (released) return
        released = true
        if (held) this.release()
      },
    }
  }

  private acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--
      return Promise.resolve()
    }

    return new Promise(resolve => {
      this.waiting.push(resolve)
    })
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }
}
