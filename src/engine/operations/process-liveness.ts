import {hostname} from 'node:os'

/** How often a live operation proves it is alive, and after how long without proof it counts as dead. */
export const HEARTBEAT_INTERVAL_MS = 1000
export const HEARTBEAT_STALE_MS = 30_000

export const THIS_HOST = hostname()

/**
 * Whether the process that owns an operation may still be alive. On this host we can ask the kernel; for an
 * operation owned by another host (shared PostgreSQL catalog) only its heartbeat can tell.
 */
export function ownerMayBeAlive(host: string, pid: number, heartbeatAt: number, at: number): boolean {
  if (at - heartbeatAt > HEARTBEAT_STALE_MS) return false
  return host !== THIS_HOST || processAlive(pid)
}

/** Whether a process of this host (and pid namespace) may be alive: only ESRCH proves it gone. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive; anything else proves nothing either.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
