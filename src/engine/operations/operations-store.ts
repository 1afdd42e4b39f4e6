import {randomUUID} from 'node:crypto'

import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {UserError} from '../errors.js'
import {
  EMPTY_PROGRESS, fromRow, type OperationProgress, type OperationRecord, type OperationRow,
} from './operation-record.js'
import {ACTIVE_STATES, type OperationState, type StopReason} from './operation-state.js'
import {ownerMayBeAlive, THIS_HOST} from './process-liveness.js'

export interface NewOperation {
  type: string
  server: string
  parameters: Record<string, unknown>
}

/** Records a new operation at the end of the queue. */
export async function createOperation(catalog: Catalog, spec: NewOperation): Promise<OperationRecord> {
  const at = now()
  const row = {
    uuid: randomUUID(),
    type: spec.type,
    state: 'queued' as OperationState,
    server: spec.server,
    host: THIS_HOST,
    pid: process.pid,
    parameters: JSON.stringify(spec.parameters),
    progress: JSON.stringify(EMPTY_PROGRESS),
    created_at: at,
    heartbeat_at: at,
  }
  await catalog.db('operations').insert(row)
  return requireOperation(catalog, row.uuid)
}

export async function findOperation(catalog: Catalog, uuid: string): Promise<OperationRecord | undefined> {
  await reapDeadOperations(catalog)
  // UUIDs are stored as randomUUID() writes them, in lower case; RFC 9562 has them compared without case, and a
  // script that got one in capitals was told that no such operation exists.
  const row = await catalog.db<OperationRow>('operations').where({uuid: uuid.toLowerCase()}).first()
  if (!row) return undefined
  const record = fromRow(row)
  if (record.state === 'queued') record.queuePosition = await positionInQueue(catalog, row.seq)
  return record
}

export async function requireOperation(catalog: Catalog, uuid: string): Promise<OperationRecord> {
  const record = await findOperation(catalog, uuid)
  if (!record) {
    throw new UserError(`no operation with UUID ${uuid}: list them with 'carbonio backup getAllOperations'`)
  }

  return record
}

/** Running and queued operations in queue order; with `includeFinished`, the most recent finished ones too. */
export async function listOperations(
  catalog: Catalog,
  options: {includeFinished?: boolean; limit?: number} = {},
): Promise<OperationRecord[]> {
  await reapDeadOperations(catalog)
  const active = await catalog.db<OperationRow>('operations').whereIn('state', ACTIVE_STATES).orderBy('seq')
  const records = active.map((row, index) => ({
    ...fromRow(row),
    ...(row.state === 'queued' ? {queuePosition: index} : {}),
  }))
  if (!options.includeFinished) return records
  const finished = await catalog
  .db<OperationRow>('operations')
  .whereNotIn('state', ACTIVE_STATES)
  .orderBy('seq', 'desc')
  .limit(options.limit ?? 50)
  return [...records, ...finished.reverse().map(row => fromRow(row))]
}

/**
 * Asks an operation to end. A queued one is removed at once (it never started, so nothing is half-done);
 * a running one is flagged and its own process aborts its work at the next check, within about a second.
 */
export async function requestStop(
  catalog: Catalog,
  uuid: string,
  reason: StopReason = 'stop',
): Promise<OperationRecord> {
  const record = await requireOperation(catalog, uuid)
  if (record.state === 'queued') {
    await catalog
    .db('operations')
    .where({uuid: record.uuid, state: 'queued'})
    .update({state: 'removed', ended_at: now(), error: 'removed from the queue before it started'})
  } else if (record.state === 'running') {
    await catalog.db('operations').where({uuid: record.uuid, state: 'running'}).update({stop_requested: reason})
  }

  return requireOperation(catalog, uuid)
}

/**
 * Marks as interrupted every active operation whose process is gone, so that nothing shows "running" for ever
 * and the queue moves on. Called before every read of the queue.
 */
export async function reapDeadOperations(catalog: Catalog): Promise<number> {
  const at = now()
  const active = await catalog.db<OperationRow>('operations').whereIn('state', ACTIVE_STATES)
  let reaped = 0
  for (const row of active) {
    if (ownerMayBeAlive(row.host, Number(row.pid), Number(row.heartbeat_at), at)) continue
    reaped += await catalog
    .db('operations')
    .where({uuid: row.uuid, state: row.state})
    .update({
      state: 'interrupted',
      ended_at: at,
      error: `the process running it (pid ${row.pid} on ${row.host}) ended without finishing it`,
    })
  }

  return reaped
}

/** The live part of a running operation, written by its own process on every heartbeat. */
export async function recordHeartbeat(
  catalog: Catalog,
  uuid: string,
  progress?: OperationProgress,
): Promise<null | StopReason> {
  const update: Record<string, unknown> = {heartbeat_at: now()}
  if (progress) update.progress = JSON.stringify(progress)
  await catalog.db('operations').where({uuid}).whereIn('state', ACTIVE_STATES).update(update)
  const row = await catalog.db<OperationRow>('operations').where({uuid}).first('stop_requested', 'state')
  if (row?.state === 'removed') return 'stop'
  return row?.stop_requested ?? null
}

export async function finishOperation(
  catalog: Catalog,
  uuid: string,
  outcome: {state: OperationState; progress: OperationProgress; result?: Record<string, unknown>; error?: string},
): Promise<OperationRecord> {
  await catalog
  .db('operations')
  .where({uuid})
  .update({
    state: outcome.state,
    ended_at: now(),
    heartbeat_at: now(),
    progress: JSON.stringify(outcome.progress),
    result: outcome.result ? JSON.stringify(outcome.result) : null,
    error: outcome.error ?? null,
  })
  return requireOperation(catalog, uuid)
}

async function positionInQueue(catalog: Catalog, seq: number): Promise<number> {
  const ahead = await catalog
  .db('operations')
  .whereIn('state', ACTIVE_STATES)
  .andWhere('seq', '<', seq)
  .count<{n: number | string}[]>({n: '*'})
  return Number(ahead[0].n)
}
