import {appendFileSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {formatRedologFileName} from '../../src/engine/appserver/redolog/file-names.js'

/** Writes redolog lines by hand for tests: sequence numbers and file rotation as docs/redolog.md describes. */
export class RedologWriter {
  seq = 0
  file: string

  constructor(
    readonly dir: string,
    firstSeq = 1,
  ) {
    mkdirSync(dir, {recursive: true})
    this.seq = firstSeq - 1
    this.file = path.join(dir, formatRedologFileName(firstSeq))
    writeFileSync(this.file, '')
  }

  /** Appends one transaction with the next seq; returns that seq. */
  write(account: string, op: string, data: Record<string, unknown>, time: Date | number | string = Date.now()): number {
    this.seq++
    const at = typeof time === 'number' ? new Date(time).toISOString() : (time instanceof Date ? time.toISOString() : time)
    this.raw(JSON.stringify({
      v: 1, seq: this.seq, time: at, account, op, data,
    }) + '\n')
    return this.seq
  }

  /** Appends bytes as they are (half lines, garbage). */
  raw(text: string): void {
    appendFileSync(this.file, text)
  }

  /** Skips sequence numbers, as a server that lost transactions would. */
  skip(count: number): void {
    this.seq += count
  }

  /** Starts the next file at the next seq. */
  rotate(): void {
    this.file = path.join(this.dir, formatRedologFileName(this.seq + 1))
    writeFileSync(this.file, '')
  }
}
