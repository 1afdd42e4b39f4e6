import {hostname} from 'node:os'

/**
 * The mail server this process backs up, as the `server` level of config and the owner of operations.
 * CARBONIO_BACKUP_SERVER lets several test "servers" share one machine and one catalog.
 */
export function localServerName(env: NodeJS.ProcessEnv = process.env): string {
  return env.CARBONIO_BACKUP_SERVER || hostname()
}
