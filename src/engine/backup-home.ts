import {
  accessSync, chmodSync, constants, existsSync, statSync,
} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {UserError} from './errors.js'
import {makeDirectory} from './make-directory.js'

/** Carbonio's own default destination, used when it exists and this process may write there. */
export const CARBONIO_DEFAULT_DEST = '/opt/zextras/backup/zextras/'

/**
 * Where the catalog and the blob store live. CARBONIO_BACKUP_HOME wins (every test sets it), then Carbonio's
 * default path when present and writable, then the XDG data directory, so a plain user gets a working default.
 */
export function resolveBackupHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CARBONIO_BACKUP_HOME) return path.resolve(env.CARBONIO_BACKUP_HOME)
  if (isWritableDirectory(CARBONIO_DEFAULT_DEST)) return CARBONIO_DEFAULT_DEST
  const dataHome = env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share')
  return path.join(dataHome, 'carbonio-backup')
}

/** Creates the backup home 0700 (it holds everyone's mail) and tightens it if someone loosened it. */
export function ensurePrivateDirectory(dir: string): string {
  try {
    makeDirectory(dir, 0o700)
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
  } catch (error) {
    const {code} = (error as NodeJS.ErrnoException)
    throw new UserError(`cannot create backup directory ${dir} (${code}): set CARBONIO_BACKUP_HOME to a writable path`)
  }

  return dir
}

function isWritableDirectory(dir: string): boolean {
  try {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return false
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}
