import type {Catalog} from '../catalog/catalog.js'

/** From this migration on, every doRestoreOnNewAccount records that it took its destination (unfinished-restore.ts). */
const TAKES_RECORDED_BY = '0004-restore-destinations-taken'

/** A doRestoreOnNewAccount that ended unfinished under a release that did not record whether it reached its destination. */
export interface LegacyUnfinishedRestore {
  uuid: string
  state: string
  /** The moment to give a rerun with force true: its date, or for last the moment it started. */
  date: string
}

/**
 * The last doRestoreOnNewAccount into `destination`, when it ran before this catalog got migration 0004, restored the
 * same source at the same point in time and did not complete. A restore killed by the upgrade itself is one: its
 * release completed it when run again, but without the record of its take the upgraded one cannot tell its messages
 * from the destination's own (they may be, if it failed before it looked), so it is refused, and this names the run
 * and the command that completes it. Undefined once any run of this release took the destination: that one decides.
 */
export async function legacyUnfinishedRestoreInto(
  catalog: Catalog,
  request: {date: string; destination: string; source: string},
): Promise<LegacyUnfinishedRestore | undefined> {
  const destination = request.destination.toLowerCase()
  if (await catalog.db('restore_destinations_taken').where({destination}).first('operation_uuid')) return undefined
  const migrated: undefined | {migration_time: Date | number | string} = await catalog.db('knex_migrations')
  .where({name: TAKES_RECORDED_BY})
  .first('migration_time')
  if (!migrated) return undefined
  const rows: Array<{error: null | string; parameters: string; started_at: null | number; state: string; uuid: string}> = await catalog
  .db('operations')
  .where({type: 'doRestoreOnNewAccount'})
  .andWhere('created_at', '<', new Date(migrated.migration_time).getTime())
  .orderBy('seq', 'desc')
  .limit(200)
  .select('uuid', 'state', 'parameters', 'error', 'started_at')
  for (const row of rows) {
    const parameters = JSON.parse(row.parameters) as {date?: string; destination?: string; source?: string}
    // A run refused as not empty wrote nothing: the run before it decides, as that release had it.
    if (parameters.destination?.toLowerCase() !== destination || row.error?.toLowerCase().startsWith(`${destination} is not empty (`)) continue
    const same = parameters.source?.toLowerCase() === request.source.toLowerCase() && parameters.date === request.date
    if (!same || !['failed', 'interrupted', 'stopped'].includes(row.state) || row.started_at === null) return undefined
    return {uuid: row.uuid, state: row.state, date: request.date === 'last' ? new Date(Number(row.started_at)).toISOString() : request.date}
  }

  return undefined
}
