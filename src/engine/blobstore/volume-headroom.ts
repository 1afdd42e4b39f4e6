import {statfsSync} from 'node:fs'

/**
 * The capture leaves this much of the backup's volume free (or 2% of a smaller volume): doPurge, which frees space,
 * and restores need some to run. SQLite writes every change to its -wal file first, and a purge deletes by writing;
 * on a volume filled to the last byte neither could even open the catalog, and the administrator's way out was to
 * find space elsewhere first.
 */
const HEADROOM_BYTES = 64 * 1024 * 1024
const HEADROOM_SHARE = 0.02
/**
 * The free space is read again after this long, or after a quarter of the headroom (at most 4 MiB) was written: a
 * statfs per blob would be waste.
 */
const RECHECK_MS = 250
const RECHECK_BYTES = 4 * 1024 * 1024

/** A write refused to keep the headroom: reported as the volume full (storageFailure), with what is left. */
export class HeadroomExhausted extends Error {
  readonly code = 'ENOSPC'

  constructor(readonly detail: string) {
    super(`ENOSPC: ${detail}`)
    this.name = 'HeadroomExhausted'
  }
}

export class VolumeHeadroom {
  private checkedAt = 0
  private writtenSince = 0
  private recheckBytes = RECHECK_BYTES

  constructor(private readonly dir: string) {}

  /** Throws HeadroomExhausted when the volume has less than the headroom left (read at most every RECHECK_MS). */
  check(bytesToWrite = 0): void {
    this.writtenSince += bytesToWrite
    const now = Date.now()
    if (now - this.checkedAt < RECHECK_MS && this.writtenSince < this.recheckBytes) return
    this.checkedAt = now
    this.writtenSince = 0
    let stats
    try {
      stats = statfsSync(this.dir)
    } catch {
      return
    }

    const headroom = Math.min(HEADROOM_BYTES, stats.blocks * stats.bsize * HEADROOM_SHARE)
    const free = stats.bavail * stats.bsize
    this.recheckBytes = Math.min(RECHECK_BYTES, headroom / 4)
    if (free < headroom) {
      // Read again next time: space freed meanwhile (doPurge, a larger volume) lets the capture go on at once.
      this.checkedAt = 0
      throw new HeadroomExhausted(`${kib(free)} left, under the ${kib(headroom)} kept free for doPurge and restores`)
    }
  }
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.floor(bytes / 1024)} KiB`
}
