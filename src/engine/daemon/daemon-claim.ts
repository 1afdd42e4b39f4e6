import type {Catalog} from '../catalog/catalog.js'

import {UserError} from '../errors.js'
import {humanDuration} from '../human-duration.js'
import {sleep} from '../sleep.js'
import {
  claimDaemon, type DaemonHolder, keepDaemon, releaseDaemon,
} from './daemon-lock.js'

/** How often a claim's holder heartbeats: well inside SERVICE_STALE_MS, after which another host may take over. */
export const CLAIM_HEARTBEAT_MS = 500

/** "pid 123 on host mail1, last heartbeat 2s ago". */
export function describeHolder(holder: DaemonHolder): string {
  return `pid ${holder.pid} on host ${holder.host}, last heartbeat ${humanDuration(Math.max(0, Date.now() - holder.heartbeatAt))} ago`
}

/**
 * Makes this process the one daemon of the server (daemon-lock.ts), or refuses in one line naming the live one: two
 * would fight over the feed's checkpoint. `daemon once true` takes the claim as the daemon does.
 */
export async function claimOrRefuse(catalog: Catalog, server: string): Promise<void> {
  const holder = await claimDaemon(catalog, server)
  if (holder) {
    throw new UserError(`a backup daemon already runs for server ${server}: ${describeHolder(holder)}; stop it first (systemctl stop carbonio-backup)`)
  }
}

/**
 * The claim's heartbeat, on its own timer until `running` aborts: the work may wait seconds for a batch, and a claim
 * that looks stale lets another daemon take over; `lost` aborts when one did. A failing catalog is not a lost claim.
 */
export async function keepClaim(catalog: Catalog, server: string, running: AbortSignal, lost: AbortController): Promise<void> {
  while (!running.aborted) {
    await sleep(CLAIM_HEARTBEAT_MS, running)
    if (running.aborted) return
    try {
      if (!(await keepDaemon(catalog, server))) lost.abort()
    } catch {
      // Retried at the next tick; the claim stays valid for SERVICE_STALE_MS.
    }
  }
}

/**
 * Gives the claim up after the work, whatever ended it. A release that fails (the catalog's volume full, which may be
 * why the work failed) must not replace the work's own error: the claim lapses anyway, at once on this host since
 * the pid is gone, after SERVICE_STALE_MS from another.
 */
export async function releaseClaim(catalog: Catalog, server: string): Promise<void> {
  try {
    await releaseDaemon(catalog, server)
  } catch {
    // See above: nothing to report that the work's own outcome does not.
  }
}
