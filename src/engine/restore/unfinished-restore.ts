import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {reapDeadOperations} from '../operations/operations-store.js'

/** A doRestoreOnNewAccount run that ended before completing (failed, stopped, killed). */
export interface UnfinishedRestore {
  uuid: string
  state: string
}

/**
 * The last doRestoreOnNewAccount into `destination`, when it restored the same source at the same point in time and
 * did not complete: the messages in the destination are then that run's own, and running it again completes it
 * (messages already there are skipped). A killed restore otherwise left a destination its rerun refused as not empty,
 * asking for `force true`, which also merges into an account holding anything else.
 */
export async function unfinishedRestoreInto(
  catalog: Catalog,
  request: {date: string; destination: string; source: string},
  currentUuid: string,
): Promise<undefined | UnfinishedRestore> {
  // A run killed with kill -9 is still 'running' until someone notices its process is gone.
  await reapDeadOperations(catalog)
  const destination = request.destination.toLowerCase()
  // Only a run that took the destination may have written there. One refused as not empty, or one that failed, was
  // stopped or killed before it looked (the AppServer unreachable, stopped in the queue) wrote nothing: what the
  // destination holds is then someone else's mail, and what decides is the run before it.
  const row: undefined | {parameters: string; state: string; uuid: string} = await catalog.db('operations as o')
  .join('restore_destinations_taken as t', 't.operation_uuid', 'o.uuid')
  .where({'o.type': 'doRestoreOnNewAccount', 't.destination': destination})
  .whereNot({'o.uuid': currentUuid})
  .orderBy('o.seq', 'desc')
  .first('o.uuid', 'o.state', 'o.parameters')
  if (!row) return undefined
  const parameters = JSON.parse(row.parameters) as {date?: string; source?: string}
  const same = parameters.source?.toLowerCase() === request.source.toLowerCase() && parameters.date === request.date
  return same && ['failed', 'interrupted', 'stopped'].includes(row.state) ? {uuid: row.uuid, state: row.state} : undefined
}

/**
 * Records that this run found `destination` empty, or is completing an unfinished run into it: from now on it may
 * write there, and its messages are ones a rerun may complete (unfinishedRestoreInto). Written before the first folder
 * or message, so a run killed at any later moment is known.
 */
export async function takeDestination(catalog: Catalog, uuid: string, destination: string): Promise<void> {
  await catalog.db('restore_destinations_taken').insert({operation_uuid: uuid, destination: destination.toLowerCase(), taken_at: now()})
}

/** Why a restore refuses a destination that holds messages. */
export function notEmptyRefusal(destination: string, present: number): string {
  return `${notEmptyPrefix(destination)}${present} message${present === 1 ? '' : 's'}): restore into an empty account, or add force true to merge (messages already there are skipped)`
}

function notEmptyPrefix(destination: string): string {
  return `${destination} is not empty (`
}
