import type {Catalog} from '../catalog/catalog.js'
import type {OperationRecord} from './operation-record.js'

import {isFinal} from './operation-state.js'
import {listOperations, requestStop, requireOperation} from './operations-store.js'
import {HEARTBEAT_INTERVAL_MS} from './process-liveness.js'

/** Long enough for a running operation to see the request at its next heartbeat and finish its current unit. */
const STOP_WAIT_MS = 15_000

/**
 * Stops one operation and waits (bounded) until its own process has recorded the outcome, so the caller can
 * report "Stopped" rather than "stop requested". A queued operation is removed at once.
 */
export async function stopOperationAndWait(catalog: Catalog, uuid: string): Promise<OperationRecord> {
  await requestStop(catalog, uuid)
  return waitUntilFinal(catalog, uuid)
}

/**
 * Removes every queued operation of this server, then stops its running one; queued ones first so none starts
 * meanwhile. Servers sharing a PostgreSQL catalog share its queue, but each one's doStopAllOperations stops its own
 * work only, as on a Carbonio server: an administrator of one must not stop another's restore.
 */
export async function stopAllOperationsAndWait(catalog: Catalog, server: string): Promise<OperationRecord[]> {
  const active = (await listOperations(catalog)).filter(op => op.server === server)
  const queuedFirst = [...active].sort((a, b) => Number(b.state === 'queued') - Number(a.state === 'queued'))
  for (const op of queuedFirst) await requestStop(catalog, op.uuid)
  const finals: OperationRecord[] = []
  for (const op of active) finals.push(await waitUntilFinal(catalog, op.uuid))
  return finals
}

async function waitUntilFinal(catalog: Catalog, uuid: string): Promise<OperationRecord> {
  const deadline = Date.now() + STOP_WAIT_MS
  let record = await requireOperation(catalog, uuid)
  while (!isFinal(record.state) && Date.now() < deadline) {
    await new Promise(resolve => {
      setTimeout(resolve, HEARTBEAT_INTERVAL_MS / 4)
    })
    record = await requireOperation(catalog, uuid)
  }

  return record
}
