import {open} from 'node:fs/promises'

/**
 * What the reader found at an offset of a redolog file: complete lines (and perhaps the start of an unfinished one),
 * or a complete first line longer than the limit, which is skipped rather than held in memory.
 */
export type LinesRead
  = | {
    /** Bytes from the offset: complete lines up to `end`, then perhaps the start of an unfinished line. */
    bytes: Buffer
    /** Index in `bytes` of the last newline, -1 when there is none: a line still unfinished (or truncated). */
    end: number
    kind: 'lines'
    /** Bytes from the offset to the end of the file when `end` is -1 (more than `bytes` for an overlong line). */
    length: number
  }
  | {
    /** The line's first bytes, kept with the report of it. */
    head: Buffer
    kind: 'overlong'
    /** Bytes of the line with its newline. */
    length: number
  }

const HEAD_BYTES = 1024

/**
 * Reads `chunkBytes` from `offset`, and more while they hold no newline: a well-formed line may be longer than one
 * read (a document sent inline), and cutting it there would either wait forever for a newline that was already
 * written or, in a rotated file, report it as truncated and lose the lines after it. A first line longer than
 * `maxLineBytes` is not read into memory: its length is found by scanning for its newline, and an unfinished one
 * is returned as its first bytes.
 */
export async function readLines(file: string, offset: number, chunkBytes: number, maxLineBytes: number): Promise<LinesRead> {
  const handle = await open(file, 'r')
  try {
    let size = chunkBytes
    for (;;) {
      const buffer = Buffer.allocUnsafe(size)
      const {bytesRead} = await handle.read(buffer, 0, size, offset)
      const bytes = buffer.subarray(0, bytesRead)
      const end = bytes.lastIndexOf(10)
      if (bytesRead < size || end !== -1) {
        return {
          kind: 'lines', bytes, end, length: bytesRead,
        }
      }

      if (size > maxLineBytes) break
      size = Math.min(size * 2, maxLineBytes + 1)
    }

    const head = Buffer.allocUnsafe(HEAD_BYTES)
    const {bytesRead: headBytes} = await handle.read(head, 0, HEAD_BYTES, offset)
    let at = offset + maxLineBytes + 1
    const buffer = Buffer.allocUnsafe(chunkBytes)
    for (;;) {
      const {bytesRead} = await handle.read(buffer, 0, chunkBytes, at)
      const newline = buffer.subarray(0, bytesRead).indexOf(10)
      if (bytesRead === 0 || newline !== -1) {
        const bytes = head.subarray(0, headBytes)
        return newline === -1
          ? {
            kind: 'lines', bytes, end: -1, length: at - offset,
          }
          : {kind: 'overlong', head: bytes, length: at + newline + 1 - offset}
      }

      at += bytesRead
    }
  } finally {
    await handle.close()
  }
}
