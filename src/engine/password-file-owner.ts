import {statSync} from 'node:fs'

import {resolveBackupHome} from './backup-home.js'

/**
 * Why the owner of the AppServer password file is refused, or null. Its owner can read it (and chmod it back to
 * 0644), so a 0600 file of anyone else's gives that user the password that opens every mailbox; root reads it
 * anyway and used to take it without a word. Accepted: the user running this, root, and the owner of the backup path
 * (root running a command on the backup of the user the daemon runs as).
 */
export function foreignOwnerOf(file: string, owner: number, env: NodeJS.ProcessEnv = process.env): null | string {
  const me = process.getuid?.()
  if (me === undefined || owner === me || owner === 0) return null
  try {
    if (statSync(resolveBackupHome(env)).uid === owner) return null
  } catch {
    // No backup path yet: only the user running this and root are known to be the backup's.
  }

  return `${file} belongs to uid ${owner}, not to the user that runs the backup: chown it to that user (and chmod 600)`
}
