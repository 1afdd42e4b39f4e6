import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'

export async function loadCheckpoint<P>(catalog: Catalog, connector: string, scope: string): Promise<null | P> {
  const row = await catalog.db('checkpoints').where({connector, scope}).first('position')
  return row ? (JSON.parse(row.position) as P) : null
}

/**
 * A catalog written before whole-server feeds were scoped by server has its redolog position under scope ''; it is
 * the position of the server that follows the feed first (on a catalog of one server, that server's own), so the
 * redolog is neither applied again nor skipped. A server that already has its own position leaves it alone.
 */
async function adoptUnscopedCheckpoint(catalog: Catalog, connector: string, scope: string): Promise<void> {
  if (scope === '') return
  await catalog
  .db('checkpoints')
  .where({connector, scope: ''})
  .whereNotExists(q => q.select(1).from('checkpoints as own').where({'own.connector': connector, 'own.scope': scope}))
  .update({scope})
}

/**
 * Written inside the batch's database transaction: the position and the revisions commit or roll back together.
 * The write is conditional on the position this scanner started the batch from, so a second scanner following
 * the same feed (a second daemon, `daemon once` beside the daemon) fails its batch instead of applying the same
 * transactions twice.
 */
export async function saveCheckpoint(
  trx: Knex.Transaction,
  connector: string,
  scope: string,
  expected: unknown,
  position: unknown,
): Promise<void> {
  const value = JSON.stringify(position)
  if (expected === null) {
    const existing = await trx('checkpoints').where({connector, scope}).first('position')
    if (existing) throw new ScannerConflict(connector)
    await trx('checkpoints').insert({
      connector, scope, position: value, updated_at: now(),
    })
    return
  }

  const updated = await trx('checkpoints')
  .where({connector, scope, position: JSON.stringify(expected)})
  .update({position: value, updated_at: now()})
  if (updated !== 1) throw new ScannerConflict(connector)
}

/**
 * The batch met what another process did meanwhile and was rolled back; an IMAP cycle reads the account again
 * (runImapCycle), which finds the backup as that process left it.
 */
export class ScannerConflict extends Error {
  constructor(connector: string, why = `another scanner moved the ${connector} checkpoint: only one Realtime Scanner may follow a feed (is a daemon already running?)`) {
    super(why)
    this.name = 'ScannerConflict'
  }
}

/** Where a feed resumes: its own checkpoint, after taking over the one an older catalog kept unscoped. */
export async function feedCheckpoint<P>(catalog: Catalog, feed: {connector: string; scope: string}): Promise<null | P> {
  await adoptUnscopedCheckpoint(catalog, feed.connector, feed.scope)
  return loadCheckpoint<P>(catalog, feed.connector, feed.scope)
}

/**
 * The seq of the last transaction applied from a seq-numbered feed (the redolog), or null when none is: a checkpoint
 * written after bad lines only holds seq 0, which no transaction has (seqs start at 1), and "last seq 0" or
 * "caught up at seq 0" would name a transaction that does not exist.
 */
export async function lastAppliedSeq(catalog: Catalog, feed: {connector: string; scope: string}): Promise<null | number> {
  const seq = (await feedCheckpoint<{seq?: number}>(catalog, feed))?.seq
  return seq !== undefined && seq > 0 ? seq : null
}

/** When a checkpoint was last written (by a batch that committed), or null when there is none. */
export async function checkpointTime(catalog: Catalog, connector: string, scope: string): Promise<null | number> {
  const row: undefined | {updated_at: number | string} = await catalog.db('checkpoints').where({connector, scope}).first('updated_at')
  return row === undefined ? null : Number(row.updated_at)
}
