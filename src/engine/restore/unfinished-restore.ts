import type {Catalog} from '../catalog/catalog.js'
import type {HistoryTime} from '../history/history-time.js'
import type {OperationContext} from '../operations/run-operation.js'
import type {PointInTime} from '../point-in-time.js'

import {now} from '../catalog/catalog.js'
import {UserError} from '../errors.js'
import {reapDeadOperations} from '../operations/operations-store.js'
import {describePointInTime} from '../point-in-time.js'
import {type LegacyUnfinishedRestore, legacyUnfinishedRestoreInto} from './legacy-unfinished-restore.js'

/** A doRestoreOnNewAccount run that ended before completing (failed, stopped, killed). */
export interface UnfinishedRestore {
  uuid: string
  state: string
  /** The moment of the source it restored (what `last` was then). */
  at: number
}

/**
 * The last doRestoreOnNewAccount into `destination`, when it restored the same source at the same point in time and
 * did not complete: the messages in the destination are then that run's own, and running it again completes it
 * (messages already there are skipped). A killed restore otherwise left a destination its rerun refused as not empty,
 * asking for `force true`, which also merges into an account holding anything else.
 */
async function unfinishedRestoreInto(
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
  const row: undefined | {parameters: string; restored_at: number | string; state: string; uuid: string} = await catalog.db('operations as o')
  .join('restore_destinations_taken as t', 't.operation_uuid', 'o.uuid')
  .where({'o.type': 'doRestoreOnNewAccount', 't.destination': destination})
  .whereNot({'o.uuid': currentUuid})
  .orderBy('o.seq', 'desc')
  .first('o.uuid', 'o.state', 'o.parameters', 't.restored_at')
  if (!row) return undefined
  const parameters = JSON.parse(row.parameters) as {date?: string; source?: string}
  const same = parameters.source?.toLowerCase() === request.source.toLowerCase() && parameters.date === request.date
  if (!same || !['failed', 'interrupted', 'stopped'].includes(row.state)) return undefined
  return {uuid: row.uuid, state: row.state, at: Number(row.restored_at)}
}

/**
 * Records that this run found `destination` empty (or was forced, or is completing an unfinished run into it) and
 * restores the source as it was at `restoredAt`: from now on it may write there, and its messages are ones a rerun may
 * complete (unfinishedRestoreInto). Written before the first folder or message, so a run killed at any later moment
 * is known.
 */
export async function takeDestination(catalog: Catalog, uuid: string, destination: string, restoredAt: number): Promise<void> {
  // One row per run: a run called twice under one uuid (the engine without the operation queue) keeps its latest.
  await catalog.db('restore_destinations_taken').insert({
    operation_uuid: uuid, destination: destination.toLowerCase(), taken_at: now(), restored_at: restoredAt,
  })
  .onConflict('operation_uuid')
  .merge()
}

/**
 * The moment a restore into a destination holding `present` messages restores the source at: the one asked for into
 * an empty or forced destination; when it completes an unfinished run (unfinishedRestoreInto), that run's, which for
 * last is the moment that run restored. Any other destination holding messages is refused.
 */
export async function restoreMomentInto(
  context: Pick<OperationContext, 'catalog' | 'progress' | 'uuid'>,
  request: {destination: string; force?: boolean; point: PointInTime; source: string},
  present: number,
): Promise<HistoryTime> {
  const asked: HistoryTime = request.point.kind === 'at' ? request.point.at : 'last'
  if (present === 0 || request.force) return asked
  const {catalog, progress, uuid} = context
  const date = describePointInTime(request.point)
  const unfinished = await unfinishedRestoreInto(catalog, {...request, date}, uuid)
  if (!unfinished) {
    const legacy = await legacyUnfinishedRestoreInto(catalog, {...request, date})
    throw new UserError(legacy ? legacyRefusal(request, present, legacy) : notEmptyRefusal(request.destination, present))
  }

  progress({
    kind: 'step', account: request.destination,
    message: `completing restore ${unfinished.uuid} (${unfinished.state}) at ${new Date(unfinished.at).toISOString()}: `
      + `the ${present} message${present === 1 ? '' : 's'} it restored are skipped`,
  })
  // Its last was the moment it restored: at a later last, a message the source moved since would be in the
  // destination twice, in the folder the killed run put it in and in its new one.
  return unfinished.at
}

/** Why a restore refuses a destination that holds messages. */
function notEmptyRefusal(destination: string, present: number): string {
  return `${notEmptyPrefix(destination)}${present} message${present === 1 ? '' : 's'}): restore into an empty account, or add force true to merge (messages already there are skipped)`
}

/** Why a restore refuses a destination that a run before the upgrade may have half-filled, and how to complete that run. */
function legacyRefusal(request: {destination: string; source: string}, present: number, legacy: LegacyUnfinishedRestore): string {
  return `${notEmptyPrefix(request.destination)}${present} message${present === 1 ? '' : 's'}): restore ${legacy.uuid} of ${request.source} `
    + `into it (${legacy.state}) ran before the catalog was upgraded, which did not record whether it reached ${request.destination}; `
    + `if these are its messages, complete it with backup doRestoreOnNewAccount ${request.source} ${request.destination} ${legacy.date} force true `
    + '(messages already there are skipped), else restore into an empty account'
}

function notEmptyPrefix(destination: string): string {
  return `${destination} is not empty (`
}
