import path from 'node:path'

// A file or directory the administrator named on the command line (getItem's output, doExport's target) that
// cannot be written: Node's own text ("ENOENT: no such file or directory, open '/x/.257.eml.tmp-ca45ca2c'") names
// a temporary file the user never asked for and no fix. This says what is wrong with the path given, and how to
// fix it, keeping the code for a search.
const REASONS: Record<string, (target: string) => string> = {
  EACCES: target => `permission denied: let the user running carbonio write to ${path.dirname(target)}, or give another path`,
  EISDIR: () => 'it is a directory: give the name of a file in it',
  ENOENT: target => `its directory ${path.dirname(target)} does not exist: create it first, or give another path`,
  ENOTDIR: () => 'a part of the path is a file, not a directory: give another path',
  EPERM: target => `permission denied: let the user running carbonio write to ${path.dirname(target)}, or give another path`,
  EROFS: () => 'it is on a read-only volume: give a path on a writable one',
}

/** "<code>: <reason and fix>" for a failure to write at `target`, or Node's own message for a failure not listed. */
export function describePathFailure(error: unknown, target: string): string {
  const {code} = (error ?? {}) as NodeJS.ErrnoException
  const reason = code === undefined ? undefined : REASONS[code]
  return reason ? `${code}: ${reason(target)}` : (error as Error).message
}
