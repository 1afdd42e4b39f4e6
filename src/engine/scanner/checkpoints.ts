import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'
import {now} from '../catalog/catalog.js'

export async function loadCheckpoint<P>(catalog: Catalog, connector: string, scope: string): Promise<null | P> {
  const row = await catalog.db('checkpoints').where({connector, scope}).first('position')
  return row ? (JSON.parse(row.position) as P) : null
}

/** Written inside the batch's database transaction: the position and the revisions commit or roll back together. */
export async function saveCheckpoint(trx: Knex.Transaction, connector: string, scope: string, position: unknown): Promise<void> {
  await trx('checkpoints')
    .insert({connector, scope, position: JSON.stringify(position), updated_at: now()})
    .onConflict(['connector', 'scope'])
    .merge(['position', 'updated_at'])
}
