import {accessSync, constants, statfsSync} from 'node:fs'
import path from 'node:path'

import {HeadroomExhausted} from './blobstore/volume-headroom.js'
import {CATALOG_FILE} from './catalog/catalog.js'
import {UserError} from './errors.js'

// Why running again is safe after any of these: a blob file is published by rename only once written and synced,
// and each batch of the catalog is one transaction with its feed position, so a failure leaves nothing half-written.
const SAFE = 'then run again: nothing half-written was kept, and the work resumes where it stopped'
const MOVE = 'free space on its volume, or move the backup to a larger one (and point CARBONIO_BACKUP_HOME there)'

/**
 * A failure of the storage under the backup (volume full, read-only, failing) as one line naming the place and the
 * fix, instead of Node's or the database's bare code ("ENOSPC: no space left on device, write"); undefined for any
 * other failure. `home` is the backup path (blob store and SQLite catalog).
 */
export function storageFailure(error: unknown, home: string): undefined | UserError {
  if (error instanceof HeadroomExhausted) return new UserError(outOfSpace(home, error.message))
  const {code, path: file} = (error ?? {}) as NodeJS.ErrnoException
  // SQLite reports a volume too full to create its -wal or -shm file as an I/O error: the free space tells.
  const full = (code === 'SQLITE_IOERR' || code === 'EIO') && freeBytes(home) < FULL_BELOW_BYTES
  // SQLite says SQLITE_READONLY, and Node EACCES, as well for a catalog file or directory whose owner or mode keep
  // this user from writing as for a read-only volume: "remount it read-write" would send the administrator to the
  // wrong fix. Only a path under the backup is the backup's problem (an export target or a password file is not).
  const denied = code === 'SQLITE_READONLY' || ((code === 'EACCES' || code === 'EPERM') && file !== undefined && isUnder(file, home))
  if (denied && deniedToThisUser(home, file)) return new UserError(notWritable(home, `${code}${file ? ` on ${file}` : ''}`))
  const explain = full ? outOfSpace : (code === undefined ? undefined : EXPLANATIONS.get(code))
  return explain && new UserError(explain(home, `${code}${file ? ` on ${file}` : ''}`))
}

const EXPLANATIONS = new Map<string, (home: string, what: string) => string>([
  // PostgreSQL's disk_full: the shared catalog's server, not this machine, is out of space.
  ['53100', (_home, what) => `the PostgreSQL server of the catalog is out of disk space (${what} disk_full): free space there; ${SAFE}`],
  ['EDQUOT', outOfSpace],
  ['EIO', failing],
  ['ENOSPC', outOfSpace],
  ['EROFS', readOnly],
  ['SQLITE_FULL', (home, what) => `the catalog ${path.join(home, CATALOG_FILE)} cannot grow: its volume is full (${what}): ${MOVE}; ${SAFE}`],
  ['SQLITE_IOERR', failing],
  ['SQLITE_READONLY', readOnly],
])

const FULL_BELOW_BYTES = 1024 * 1024

/** Bytes an unprivileged writer may still use on the volume of `dir` (of its nearest existing parent). */
function freeBytes(dir: string): number {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      const stats = statfsSync(at)
      return stats.bavail * stats.bsize
    } catch {
      if (path.dirname(at) === at) return Number.POSITIVE_INFINITY
    }
  }
}

/**
 * Whether the user running the backup is refused writing the backup path, its catalog, or the file that failed and
 * its directory (not the volume: that is EROFS).
 */
function deniedToThisUser(home: string, failed: string | undefined): boolean {
  const places = [home, path.join(home, CATALOG_FILE), ...(failed ? [failed, path.dirname(failed)] : [])]
  for (const place of places) {
    try {
      accessSync(place, constants.R_OK | constants.W_OK)
    } catch (error) {
      const {code} = error as NodeJS.ErrnoException
      if (code === 'EACCES' || code === 'EPERM') return true
    }
  }

  return false
}

function isUnder(file: string, dir: string): boolean {
  const relative = path.relative(dir, file)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

function notWritable(home: string, what: string): string {
  const user = process.getuid ? ` (uid ${process.getuid()})` : ''
  return `the backup at ${home} cannot be written by this user${user} (${what}): give the user that runs the backup its ownership (chown -R), directories 0700 and files 0600; ${SAFE}`
}

function outOfSpace(home: string, what: string): string {
  return `the backup at ${home} is out of space (${what}): ${MOVE}; ${SAFE}`
}

function readOnly(home: string, what: string): string {
  return `the backup at ${home} is on a read-only volume (${what}): remount it read-write; ${SAFE}`
}

function failing(home: string, what: string): string {
  return `the volume of the backup at ${home} failed to read or write (${what}): check the disk (dmesg, SMART) before anything else; ${SAFE}`
}

/** The one line to show or record for a failure: a storage failure explained, else the error's own message. */
export function failureMessage(error: unknown, home: string): string {
  return storageFailure(error, home)?.message ?? (error instanceof Error ? error.message : String(error))
}
