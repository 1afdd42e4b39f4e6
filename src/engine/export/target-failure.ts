import {UserError} from '../errors.js'

// An export reads the backup and writes only under its target: a volume full or read-only while it runs is the
// target's, and saying "the backup is out of space" would send the administrator to clean the wrong volume.
const TARGET_VOLUME_FAILURES = new Map([
  ['EDQUOT', 'is out of space'],
  ['ENOSPC', 'is out of space'],
  ['EROFS', 'is on a read-only volume'],
])

/**
 * A failure of the export target's volume as one line naming the target and the fix; undefined for any other
 * failure. `exported`: the accounts already complete in the target, which a new run into it must replace.
 */
export function exportTargetFailure(error: unknown, target: string, exported: number): undefined | UserError {
  const {code, path: file} = (error ?? {}) as NodeJS.ErrnoException
  const what = code === undefined ? undefined : TARGET_VOLUME_FAILURES.get(code)
  if (what === undefined) return undefined
  const fix = code === 'EROFS' ? 'remount it read-write, or export elsewhere' : 'free space on its volume, or export to a larger one'
  const again = exported > 0
    ? `then run again with force true (the ${exported} account(s) exported before are complete and would be replaced)`
    : 'then run again'
  return new UserError(`the export target ${target} ${what} (${code}${file ? ` on ${file}` : ''}): ${fix}; nothing half-exported was kept under an account's name; ${again}`)
}
