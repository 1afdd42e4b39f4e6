import {randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {createWriteStream, type WriteStream} from 'node:fs'
import {
  open, rename, rm, utimes,
} from 'node:fs/promises'
import path from 'node:path'
import {finished} from 'node:stream/promises'

import {makeDirectory} from '../make-directory.js'

// An export holds someone's whole mailbox: directories 0700, files 0600, and no file is ever visible under its
// final name before all its bytes are written (temporary name, then rename).

export async function mkdirPrivate(dir: string): Promise<void> {
  makeDirectory(dir, 0o700)
}

function temporaryName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(4).toString('hex')}`)
}

/** Writes a whole file under a temporary name in the same directory, then renames it into place. */
export async function writePrivateFile(target: string, content: Buffer | string, mtimeMs?: number): Promise<void> {
  await publish(temporaryName(target), target, content, mtimeMs)
}

/** Writes `content` to `temporary` (0600, must not exist), optionally sets its mtime, and renames it to `target`. */
export async function publish(temporary: string, target: string, content: Buffer | string, mtimeMs?: number): Promise<void> {
  const file = await open(temporary, 'wx', 0o600)
  try {
    await file.writeFile(content)
  } finally {
    await file.close()
  }

  try {
    if (mtimeMs !== undefined) await utimes(temporary, new Date(mtimeMs), new Date(mtimeMs))
    await rename(temporary, target)
  } catch (error) {
    await rm(temporary, {force: true})
    throw error
  }
}

/** A file written line by line (NDJSON, or JSON in pieces) with backpressure, published by rename on close. */
export class PrivateStreamFile {
  private readonly temporary: string
  private readonly stream: WriteStream

  constructor(readonly target: string) {
    this.temporary = temporaryName(target)
    this.stream = createWriteStream(this.temporary, {flags: 'wx', mode: 0o600})
  }

  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, 'drain')
  }

  async close(): Promise<void> {
    this.stream.end()
    await finished(this.stream)
    await rename(this.temporary, this.target)
  }

  /** Gives up: the partial file goes away. */
  async discard(): Promise<void> {
    this.stream.destroy()
    await rm(this.temporary, {force: true})
  }
}
