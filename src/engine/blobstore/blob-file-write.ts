import {
  closeSync, fsync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'
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
  const file = startBlobFile(job)
  if ('written' in file) return file
  return finishBlobFile(file, () => fsyncSync(file.fd))
}

/**
 * The same on the main thread, while the writer threads start (blob-writer-pool.ts): the fsync, which takes a few
 * milliseconds each on a virtual machine's disk, waits on a libuv thread. Done inline, the first forty messages of an
 * incremental SmartScan held the event loop for 160 ms, and every other account's IMAP reading with it.
 */
export async function writeBlobFileAside(job: BlobFileJob): Promise<BlobFileResult> {
  const file = startBlobFile(job)
  if ('written' in file) return file
  const failed = await promisify(fsync)(file.fd).then(() => null, (error: unknown) => ({error}))
  return finishBlobFile(file, () => {
    if (failed) throw failed.error
  })
}

interface OpenBlobFile {
  fd: number
  storedSize: number
  target: string
  temporary: string
}

/** The blob's existing file, or its compressed bytes written to a temporary name (not yet synced). */
function startBlobFile(job: BlobFileJob): BlobFileResult | OpenBlobFile {
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
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    let offset = 0
    while (offset < compressed.length) offset += writeSync(fd, compressed, offset)
  } catch (error) {
    closeSync(fd)
    rmSync(temporary, {force: true})
    throw error
  }

  return {
    fd, storedSize: compressed.length, target: job.target, temporary,
  }
}

/** Syncs, closes and publishes the temporary file under the blob's name; removes it if any step fails. */
function finishBlobFile(file: OpenBlobFile, sync: () => void): BlobFileResult {
  try {
    try {
      // The rename below must never publish a blob whose bytes are not yet on disk.
      sync()
    } finally {
      closeSync(file.fd)
    }

    renameSync(file.temporary, file.target)
  } catch (error) {
    rmSync(file.temporary, {force: true})
    throw error
  }

  return {storedSize: file.storedSize, written: true}
}
