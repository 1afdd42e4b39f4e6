import type {Catalog} from '../catalog/catalog.js'

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
  const rows: Array<{error: null | string; parameters: string; state: string; uuid: string}> = await catalog.db('operations')
  .where({type: 'doRestoreOnNewAccount'})
  .whereNot({uuid: currentUuid})
  .orderBy('seq', 'desc')
  .limit(200)
  .select('uuid', 'state', 'parameters', 'error')
  const destination = request.destination.toLowerCase()
  for (const row of rows) {
    const parameters = JSON.parse(row.parameters) as {date?: string; destination?: string; source?: string}
    // A run refused for a destination not empty wrote nothing: what decides is the run before it.
    if (parameters.destination?.toLowerCase() !== destination || row.error?.startsWith(notEmptyPrefix(destination))) continue
    const same = parameters.source?.toLowerCase() === request.source.toLowerCase() && parameters.date === request.date
    return same && ['failed', 'interrupted', 'stopped'].includes(row.state) ? {uuid: row.uuid, state: row.state} : undefined
  }

  return undefined
}

/** Why a restore refuses a destination that holds messages. */
export function notEmptyRefusal(destination: string, present: number): string {
  return `${notEmptyPrefix(destination)}${present} message${present === 1 ? '' : 's'}): restore into an empty account, or add force true to merge (messages already there are skipped)`
}

function notEmptyPrefix(destination: string): string {
  return `${destination} is not empty (`
}
