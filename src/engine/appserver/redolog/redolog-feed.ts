import {type FSWatcher, watch} from 'node:fs'
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import type {FeedEntry, FeedError, TransactionFeed} from '../../scanner/feed-entry.js'

import {UserError} from '../../errors.js'
import {sleep} from '../../sleep.js'
import {listRedologFiles, redologFileFor} from './file-names.js'
import {parseRedologLine} from './parse-line.js'
import {readLines} from './read-lines.js'

/** Where the scanner is in the redolog: just after `line` of `file` (at byte `offset`), having seen `seq`. */
export interface RedologPosition {
  file: string
  offset: number
  line: number
  seq: number
}

export interface RedologFeedOptions {
  /** Keep waiting for new lines (the daemon) instead of ending at the end of the newest file (a catch-up run). */
  follow: boolean
  /** The safety net under fs.watch, which can miss events (network file systems, some containers). */
  pollMs?: number
  /** Longest line read (default MAX_LINE_BYTES); a longer one is reported and skipped. Smaller in tests. */
  maxLineBytes?: number
  /** Most entries handed to the scanner at once: one database transaction each. */
  maxEntries?: number
  /**
   * Following: called each time the reader has read everything written so far and starts waiting, with the number of
   * batches this read() has yielded, so the caller can tell when the batches it committed reach the end of the feed.
   */
  onIdle?: (batchesYielded: number) => void
  /**
   * Whose redolog this is: the scope of its checkpoint, the server's name. Each mail server writes its own redolog,
   * and servers sharing one PostgreSQL catalog must each resume from their own position. '' when there is no server
   * to tell apart (tests, tools).
   */
  scope?: string
}

// A batch is cut here only while catching up: when the reader reaches the end of what is written (a daemon following
// the log) it hands over what it has, however few. Every batch rewrites thousands of index pages (random digests and
// item ids) whatever its size, so while catching up bigger batches cost less per transaction (measured at 200k
// metadata-only transactions: 2000 -> 8000 entries, system time 4.6 -> 3.1 s); the batch read ahead and the one
// being applied, each up to READ_BYTES of lines, stay well within the daemon's memory budget.
const MAX_ENTRIES = 8000

const READ_BYTES = 1 << 22

// docs/redolog.md asks for lines well under 1 MiB, but a longer one is still a transaction and is read whole (see
// readLines). This bounds the memory one line can take: a file with no newline in sight is not a line to keep.
const MAX_LINE_BYTES = 64 << 20

/**
 * Follows the redolog directory (docs/redolog.md): reads complete lines in order across rotated files, waits
 * for a half-written last line to get its newline, and checks that sequence numbers increase by exactly one.
 * Bad lines, gaps and duplicates become error entries: reported and recorded, never stopping the lines after.
 */
export class RedologFeed implements TransactionFeed<RedologPosition> {
  readonly connector = 'redolog'
  readonly scope: string
  readonly server?: string

  constructor(
    readonly dir: string,
    private readonly options: RedologFeedOptions,
  ) {
    this.scope = options.scope ?? ''
    if (this.scope !== '') this.server = this.scope
  }

  resolveContentPath(contentPath: string): string {
    return path.isAbsolute(contentPath) ? contentPath : path.resolve(this.dir, contentPath)
  }

  async * read(from: null | RedologPosition, signal: AbortSignal): AsyncGenerator<Array<FeedEntry<RedologPosition>>> {
    const waiter = this.options.follow ? new ChangeWaiter(this.dir, this.options.pollMs ?? 250) : undefined
    try {
      yield * this.readLoop(from, signal, waiter)
    } finally {
      waiter?.close()
    }
  }

  private async * readLoop(
    from: null | RedologPosition,
    signal: AbortSignal,
    waiter: ChangeWaiter | undefined,
  ): AsyncGenerator<Array<FeedEntry<RedologPosition>>> {
    const maxEntries = this.options.maxEntries ?? MAX_ENTRIES
    let yielded = 0
    const idle = async (waiting: ChangeWaiter) => {
      this.options.onIdle?.(yielded)
      await waiting.next(signal)
    }

    const reportedNames = new Set<string>()
    let lastSeq = from?.seq ?? 0
    let cursor: null | {file: string; line: number; offset: number} = from ? {file: from.file, line: from.line, offset: from.offset} : null
    // After the file we were reading was deleted, lines we already applied may be read again: skip them quietly.
    let quietUpTo = 0
    while (!signal.aborted) {
      const {files, rejected} = listRedologFiles(await this.listDirectory())
      const pending: Array<FeedEntry<RedologPosition>> = []
      for (const bad of rejected) {
        if (reportedNames.has(bad.name)) continue
        reportedNames.add(bad.name)
        pending.push(this.errorEntry({
          reason: bad.reason, origin: {source: bad.name}, scope: 'none', once: true,
        }, cursor, lastSeq))
      }

      if (pending.length > 0) {
        yielded++
        yield pending
      }

      if (files.length === 0) {
        if (!waiter) return
        await idle(waiter)
        continue
      }

      if (cursor === null || !files.some(f => f.name === cursor!.file)) {
        const file = redologFileFor(files, lastSeq + 1) ?? files[0]
        if (cursor !== null) quietUpTo = lastSeq
        cursor = {file: file.name, line: 0, offset: 0}
      }

      const index = files.findIndex(f => f.name === cursor!.file)
      const newest = index === files.length - 1
      const maxLineBytes = this.options.maxLineBytes ?? MAX_LINE_BYTES
      const read = await readLines(path.join(this.dir, cursor.file), cursor.offset, Math.min(READ_BYTES, maxLineBytes), maxLineBytes)
      if (read.kind === 'overlong') {
        // Its seq is unread: if it was the next one, the next line reports it as a gap.
        cursor = {file: cursor.file, line: cursor.line + 1, offset: cursor.offset + read.length}
        yielded++
        yield [this.errorEntry({
          reason: `line longer than ${maxLineBytes} bytes: not read`,
          raw: read.head.toString('utf8'),
          origin: {source: cursor.file, line: cursor.line},
          scope: 'all',
        }, cursor, lastSeq)]
        continue
      }

      const {bytes: chunk, end} = read
      if (end === -1) {
        if (newest) {
          // Nothing complete yet: a half-written line waits for its newline.
          if (!waiter) return
          await idle(waiter)
          continue
        }

        const entries: Array<FeedEntry<RedologPosition>> = []
        if (chunk.length > 0) {
          // A rotated file is final; a last line without newline there will never be completed.
          cursor = {...cursor, line: cursor.line + 1, offset: cursor.offset + read.length}
          entries.push(this.errorEntry({
            reason: 'truncated last line (no newline) in a rotated file',
            raw: chunk.toString('utf8'),
            origin: {source: cursor.file, line: cursor.line},
            scope: 'all',
          }, cursor, lastSeq))
        }

        cursor = {file: files[index + 1].name, line: 0, offset: 0}
        if (entries.length > 0) {
          yielded++
          yield entries
        }

        continue
      }

      let entries: Array<FeedEntry<RedologPosition>> = []
      let start = 0
      while (start <= end) {
        const newline = chunk.indexOf(10, start)
        const text = chunk.toString('utf8', start, newline)
        cursor = {file: cursor.file, line: cursor.line + 1, offset: cursor.offset + (newline - start) + 1}
        start = newline + 1
        const origin = {source: cursor.file, line: cursor.line}
        const parsed = parseRedologLine(text, origin)
        const seq = parsed.ok ? parsed.transaction.seq : parsed.seq
        if (seq !== undefined && seq <= quietUpTo) continue
        if (!parsed.ok) {
          if (seq === lastSeq + 1) lastSeq = seq
          // A line whose seq is unreadable loses nothing by itself: if it held a transaction, the next line's seq
          // shows the gap. A readable seq without a readable account lost a transaction of someone unknown.
          const scope = parsed.account ? 'account' : (seq === undefined ? 'none' : 'all')
          entries.push(this.errorEntry({
            reason: parsed.reason, account: parsed.account, raw: text, origin, scope,
          }, cursor, lastSeq))
        } else if (parsed.transaction.seq <= lastSeq) {
          entries.push(this.errorEntry({
            reason: `duplicate seq ${parsed.transaction.seq}: transactions up to ${lastSeq} are already applied; line ignored`,
            account: parsed.transaction.account,
            raw: text,
            origin,
            scope: 'none',
          }, cursor, lastSeq))
        } else {
          if (parsed.transaction.seq > lastSeq + 1) {
            const missing = parsed.transaction.seq - 1 === lastSeq + 1 ? `${lastSeq + 1}` : `${lastSeq + 1}..${parsed.transaction.seq - 1}`
            entries.push(this.errorEntry({
              reason: `sequence gap: seq ${missing} missing before this line; every account needs a SmartScan`,
              origin,
              scope: 'all',
            }, cursor, lastSeq))
          }

          lastSeq = parsed.transaction.seq
          entries.push({kind: 'transaction', transaction: parsed.transaction, position: {...cursor, seq: lastSeq}})
        }

        if (entries.length >= maxEntries) {
          yielded++
          yield entries
          entries = []
          if (signal.aborted) return
        }
      }

      if (entries.length > 0) {
        yielded++
        yield entries
      }
    }
  }

  private errorEntry(
    error: FeedError,
    cursor: null | {file: string; line: number; offset: number},
    seq: number,
  ): FeedEntry<RedologPosition> {
    return {
      kind: 'error', error, position: {
        file: cursor?.file ?? '', line: cursor?.line ?? 0, offset: cursor?.offset ?? 0, seq,
      },
    }
  }

  /**
   * The redolog's files. A directory that is missing or unreadable is a failure, not an empty feed: the daemon would
   * otherwise follow nothing without a word. It says so in one line (and the daemon retries: a mount may come later).
   */
  private async listDirectory(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (error) {
      throw redologDirectoryFailure(this.dir, error as NodeJS.ErrnoException)
    }
  }
}

function redologDirectoryFailure(dir: string, error: NodeJS.ErrnoException): UserError {
  const what = `the redolog directory ${dir} (backupRedologPath)`
  const fix = 'set backupRedologPath to the directory the mailbox-server extension writes (carbonio config set server <host> backupRedologPath <dir>)'
  if (error.code === 'ENOENT') return new UserError(`${what} does not exist: mount or create it, or ${fix}`)
  if (error.code === 'ENOTDIR') return new UserError(`${what} is not a directory: ${fix}`)
  if (error.code === 'EACCES' || error.code === 'EPERM') return new UserError(`${what} cannot be read (${error.code}): let the user running the backup read it`)
  return new UserError(`${what} cannot be read (${error.code ?? error.message})`)
}

/** Wakes the reader when the directory changes (fs.watch) or after the poll interval, whichever comes first. */
class ChangeWaiter {
  private changed = false
  /** The wait under way, if any (next() is not called twice at once). */
  private readonly waiting = new Set<() => void>()
  private readonly watcher?: FSWatcher

  constructor(
    dir: string,
    private readonly pollMs: number,
  ) {
    try {
      this.watcher = watch(dir, () => {
        this.changed = true
        this.wakeUp()
      })
      this.watcher.on('error', () => {
        // The poll keeps working without the watcher.
      })
    } catch {
      // No watch support (or no directory yet): polling alone.
    }
  }

  close(): void {
    this.watcher?.close()
    this.wakeUp()
  }

  async next(signal: AbortSignal): Promise<void> {
    if (this.changed) {
      this.changed = false
      return
    }

    await sleep(this.pollMs, signal, this.waiting)
    this.changed = false
  }

  private wakeUp(): void {
    for (const wake of this.waiting) wake()
  }
}

