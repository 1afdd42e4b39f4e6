import {
  closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {makeDirectory} from '../make-directory.js'
import {compressionOptions} from './blob-compression.js'
import {temporaryPath} from './blob-temporary.js'

export interface BlobFileJob {
  content: Uint8Array
  digest: string
  level: number
  target: string
  /** items/.tmp/ of the store (blob-temporary.ts): where the file is written before its rename to `target`. */
  temporaryDir: string
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
  for (const dir of [job.temporaryDir, path.dirname(job.target)]) {
    if (knownDirs.has(dir)) continue
    // Not mkdir's recursive form: on a read-only volume it fails with ENOENT, which no one can tell from a missing path;
    // level by level it is EROFS, which the capture waits out as the backup's failure, naming it read-only.
    makeDirectory(dir, 0o700)
    knownDirs.add(dir)
  }

  // Named after this host and pid, so that once this process is dead the next writer here can tell its leftovers
  // from a live writer's (BlobStore.sweepTemporaries). The caller fsyncs the target's directory before its catalog
  // commit (BlobStore.syncDirectories): that makes the rename durable; the temporary's directory needs no fsync, as
  // a name left there by a power loss is only a leftover to sweep.
  const temporary = temporaryPath(job.temporaryDir, job.digest)
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
