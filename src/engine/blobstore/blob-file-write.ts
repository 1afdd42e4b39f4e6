import {randomBytes} from 'node:crypto'
import {
  closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {compressionOptions} from './blob-compression.js'

export interface BlobFileJob {
  content: Uint8Array
  digest: string
  level: number
  target: string
}

export interface BlobFileResult {
  storedSize: number
  /** False when the file was already there (deduplicated). */
  written: boolean
}

const knownDirs = new Set<string>()

/**
 * Writes one blob file, synchronously: gzip, a temporary name, fsync, rename. It runs inside a blob writer thread
 * (blob-writer-pool.ts), where blocking is the point: none of this waits on the event loop or on libuv's four
 * shared threads, which SQLite's statements need.
 */
export function writeBlobFile(job: BlobFileJob): BlobFileResult {
  try {
    return {storedSize: statSync(job.target).size, written: false}
  } catch {
    // Not there yet: write it.
  }

  const compressed = gzipSync(job.content, compressionOptions(job.content, job.level))
  const dir = path.dirname(job.target)
  if (!knownDirs.has(dir)) {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    knownDirs.add(dir)
  }

  const temporary = path.join(dir, `.tmp-${job.digest}-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const fd = openSync(temporary, 'wx', 0o600)
    try {
      let offset = 0
      while (offset < compressed.length) offset += writeSync(fd, compressed, offset)
      // The rename below must never publish a blob whose bytes are not yet on disk.
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    renameSync(temporary, job.target)
  } catch (error) {
    rmSync(temporary, {force: true})
    throw error
  }

  return {storedSize: compressed.length, written: true}
}
