import {randomBytes} from 'node:crypto'
import {readlinkSync} from 'node:fs'
import {lstat, opendir, unlink} from 'node:fs/promises'
import {hostname} from 'node:os'
import path from 'node:path'

import {processAlive} from '../operations/process-liveness.js'

/**
 * Where blob writes keep their temporary files: one directory, items/.tmp/, so that sweeping the leftovers of a
 * crashed process reads a handful of names instead of the whole store, and on the same file system as
 * items/<2 hex>/ so that the rename that publishes a blob stays atomic.
 */
export const TEMPORARY_DIR = '.tmp'
export const TEMPORARY_PREFIX = '.tmp-'
/**
 * A temporary file this old is a dead write whoever made it: no blob write takes a day. This is what lets one host
 * remove another's leftovers, whose pids it cannot ask about; generous, since NFS hosts' clocks may disagree.
 */
export const ABANDONED_TEMPORARY_MS = 24 * 3_600_000

// .tmp-<writer>-<pid>-<8 hex>-<sha256>: the fields after the writer have fixed forms, so a writer with dashes parses.
const NAME = /^\.tmp-(.+)-(\d+)-[0-9a-f]{8}-[0-9a-f]{64}$/

let identity: string | undefined

/**
 * Who can judge whether the pid in a temporary's name is alive: this host, in this pid namespace. The namespace
 * counts because containers can share a host name (shared UTS namespace, Kubernetes hostNetwork) while each sees
 * only its own pids: there, a pid missing from ours may be a live writer in another.
 */
export function writerIdentity(): string {
  if (identity === undefined) {
    // Only characters that cannot end the field early or escape the directory.
    const host = hostname().replaceAll(/[^\w.-]/g, '_').slice(0, 64) || 'unknown'
    let namespace = ''
    try {
      namespace = readlinkSync('/proc/self/ns/pid').replaceAll(/\D/g, '')
    } catch {
      // Not Linux: the host name alone.
    }

    identity = namespace ? `${host}@${namespace}` : host
  }

  return identity
}

/** A fresh temporary path for a blob of `digest` in `dir` (items/.tmp/), named after its writer. */
export function temporaryPath(dir: string, digest: string): string {
  return path.join(dir, `${TEMPORARY_PREFIX}${writerIdentity()}-${process.pid}-${randomBytes(4).toString('hex')}-${digest}`)
}

/**
 * Why a temporary file in items/.tmp/ is a leftover no one will finish, or undefined when its writer may still be
 * at work: it is this host's (and pid namespace's) and its pid is gone, or it is older than a day whatever its
 * writer. A file of another host, or of a live pid here, is left alone until then; so is one of this very process,
 * whose writes go on while it sweeps.
 */
export function abandonedTemporary(name: string, mtimeMs: number, now: number): string | undefined {
  const parsed = NAME.exec(name)
  if (parsed && parsed[1] === writerIdentity()) {
    const pid = Number(parsed[2])
    if (pid !== process.pid && !processAlive(pid)) return `written by process ${pid} of this host, which is gone`
  }

  if (mtimeMs < now - ABANDONED_TEMPORARY_MS) return `last written at ${new Date(mtimeMs).toISOString()}, over a day ago`
  return undefined
}

export interface TemporarySweep {
  removed: number
  /** Temporary files whose writer may be alive. */
  kept: number
  /** Files that could not be looked at or removed (each error is the sweep's only trace of it). */
  failed: number
}

/**
 * Removes the abandoned temporary files of `dir` (items/.tmp/). Never throws: the sweep is housekeeping, and a
 * write must not fail for it; what it could not do stays for the next process, or the coherency check.
 */
export async function sweepTemporaries(dir: string, now = Date.now()): Promise<TemporarySweep> {
  const sweep: TemporarySweep = {removed: 0, kept: 0, failed: 0}
  let handle
  try {
    handle = await opendir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') sweep.failed++
    return sweep
  }

  try {
    for await (const entry of handle) {
      if (!entry.name.startsWith(TEMPORARY_PREFIX)) continue
      const file = path.join(dir, entry.name)
      try {
        const info = await lstat(file)
        if (!info.isFile() || abandonedTemporary(entry.name, info.mtimeMs, now) === undefined) {
          sweep.kept++
          continue
        }

        await unlink(file)
        sweep.removed++
      } catch (error) {
        // ENOENT: renamed into place or removed by someone else since the listing.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') sweep.failed++
      }
    }
  } catch {
    sweep.failed++
  }

  return sweep
}
