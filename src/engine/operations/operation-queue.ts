import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {sleep} from '../sleep.js'
import {reapDeadOperations, recordHeartbeat} from './operations-store.js'
import {HEARTBEAT_INTERVAL_MS} from './process-liveness.js'

const POLL_MS = 200

export type TurnOutcome = 'removed' | 'running'

/**
 * Waits until this operation is first in the FIFO queue and nothing runs, then marks it running. The promotion
 * is one conditional UPDATE guarded by a unique index on the running state, so two processes can never both
 * start, on SQLite or on a shared PostgreSQL. Returns 'removed' if someone stopped it while it waited, or once the
 * signal fires (Ctrl-C, a daemon's SIGTERM): the operation ahead may run for hours, and a stop must not wait for it.
 */
export async function waitForTurn(
  catalog: Catalog,
  uuid: string,
  onWaiting?: (ahead: number) => void,
  signal?: AbortSignal,
): Promise<TurnOutcome> {
  const mine = await catalog.db('operations').where({uuid}).first('seq')
  const seq = Number(mine.seq)
  let lastHeartbeat = 0
  let lastAhead = -1
  for (;;) {
    if (signal?.aborted) return 'removed'
    await reapDeadOperations(catalog)
    if (await tryPromote(catalog, uuid, seq)) return 'running'
    const row = await catalog.db('operations').where({uuid}).first('state')
    if (row?.state !== 'queued') return 'removed'
    const ahead = await countAhead(catalog, seq)
    if (ahead !== lastAhead) onWaiting?.(ahead)
    lastAhead = ahead
    if (Date.now() - lastHeartbeat >= HEARTBEAT_INTERVAL_MS) {
      // A queued operation heartbeats too: if its process dies while waiting it is reaped, not waited on.
      await recordHeartbeat(catalog, uuid)
      lastHeartbeat = Date.now()
    }

    await sleep(POLL_MS, signal)
  }
}

async function tryPromote(catalog: Catalog, uuid: string, seq: number): Promise<boolean> {
  const at = now()
  try {
    const updated = await catalog
    .db('operations')
    .where({uuid, state: 'queued'})
    .whereNotExists(q => q.select(1).from('operations as ahead').where('ahead.state', 'running'))
    .whereNotExists(q =>
      q.select(1).from('operations as ahead').where('ahead.state', 'queued').andWhere('ahead.seq', '<', seq))
    .update({state: 'running', started_at: at, heartbeat_at: at})
    return updated === 1
  } catch (error) {
    // Another process won the race for the single running slot: the unique index refused us; wait our turn.
    if (/unique|duplicate key/i.test((error as Error).message)) return false
    throw error
  }
}

async function countAhead(catalog: Catalog, seq: number): Promise<number> {
  const rows = await catalog
  .db('operations')
  .whereIn('state', ['queued', 'running'])
  .andWhere('seq', '<', seq)
  .count<{n: number | string}[]>({n: '*'})
  return Number(rows[0].n)
}
