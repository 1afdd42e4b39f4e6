import type {Knex} from 'knex'

import {initialSchema} from './schema/0001-initial-schema.js'

export interface CatalogMigration {
  name: string
  up(db: Knex): Promise<void>
  down(db: Knex): Promise<void>
}

/** Every migration, in order. Shipped in code (not a folder to glob) so a bundled or linked plugin finds them. */
export const MIGRATIONS: readonly CatalogMigration[] = [initialSchema]

const migrationSource: Knex.MigrationSource<CatalogMigration> = {
  async getMigrations() {
    return [...MIGRATIONS]
  },
  getMigrationName: migration => migration.name,
  async getMigration(migration) {
    return {up: migration.up, down: migration.down}
  },
}

/**
 * Brings the catalog to the newest schema. Two processes opening a new catalog at once race for knex's
 * migration lock; the loser waits and retries instead of failing, because both only want the same schema.
 */
export async function migrateToLatest(db: Knex): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.migrate.latest({migrationSource})
      return
    } catch (error) {
      const message = (error as Error).message ?? ''
      const lockedOrRacing = /already locked|already exists|UNIQUE constraint|duplicate key/i.test(message)
      if (!lockedOrRacing || attempt >= 50) throw error
      await new Promise(resolve => {
        setTimeout(resolve, 100)
      })
    }
  }
}
