import {stat} from 'node:fs/promises'

import type {Catalog} from '../catalog/catalog.js'

/**
 * The size of the backup's metadata: the one place that asks each dialect in its own way. SQLite: the catalog file
 * plus its write-ahead log (committed pages not yet checkpointed into the file live there). PostgreSQL: the whole
 * database as the server accounts for it.
 */
export async function catalogSize(catalog: Catalog): Promise<number> {
  if (catalog.dialect === 'postgres') {
    const result = await catalog.db.raw('SELECT pg_database_size(current_database()) AS bytes')
    return Number(result.rows[0].bytes)
  }

  let bytes = 0
  for (const file of [catalog.location, `${catalog.location}-wal`]) {
    try {
      bytes += (await stat(file)).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }

  return bytes
}
