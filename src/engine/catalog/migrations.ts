import type {Knex} from 'knex'

import {initialSchema} from './schema/0001-initial-schema.js'
import {purgeCandidatesLegalHold} from './schema/0002-purge-candidates-legal-hold.js'
import {accountScanLeases} from './schema/0003-account-scan-leases.js'
import {openRevisionsIndexRetired} from './schema/0003-open-revisions-index.js'
import {restoreDestinationsTaken} from './schema/0004-restore-destinations-taken.js'
import {dropOpenRevisionsIndex} from './schema/0005-drop-open-revisions-index.js'
import {noteUnreferencedBlobs} from './schema/0006-note-unreferenced-blobs.js'
import {backupInfoIndexes} from './schema/0007-backup-info-indexes.js'

export interface CatalogMigration {
  name: string
  up(db: Knex): Promise<void>
  down(db: Knex): Promise<void>
}

/**
 * Every migration, in order. Shipped in code (not a folder to glob) so a bundled or linked plugin finds them. A
 * migration a release shipped is never removed from here, only retired: knex will not open a catalog that lists a
 * migration it does not know.
 */
export const MIGRATIONS: readonly CatalogMigration[] = [
  initialSchema,
  purgeCandidatesLegalHold,
  openRevisionsIndexRetired,
  accountScanLeases,
  restoreDestinationsTaken,
  dropOpenRevisionsIndex,
  noteUnreferencedBlobs,
  backupInfoIndexes,
]

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
      await refuseNewerCatalog(db)
      await ensureSingleLockRow(db)
      await db.migrate.latest({migrationSource})
      return
    } catch (error) {
      const message = (error as Error).message ?? ''
      const lockedOrRacing = /already locked|already exists|UNIQUE constraint|duplicate key|SQLITE_BUSY/i.test(message)
      if (!lockedOrRacing || attempt >= 50) throw error
      await new Promise(resolve => {
        setTimeout(resolve, 100)
      })
    }
  }
}

/**
 * An administrator who goes back to an older release after a newer one migrated the catalog would read knex's "The
 * migration directory is corrupt, the following files are missing: ..." and believe the backup damaged. It is not:
 * this release just does not know the newer schema, so say that, and which release to run, before touching anything.
 */
async function refuseNewerCatalog(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable('knex_migrations'))) return
  const known = new Set(MIGRATIONS.map(migration => migration.name))
  const unknown = (await db('knex_migrations').orderBy('id').pluck('name') as string[]).filter(name => !known.has(name))
  if (unknown.length === 0) return
  throw new Error(`it was upgraded by a newer release of carbonio-backup (schema ${unknown.join(', ')}, unknown to this release), `
    + 'which this release cannot use safely: run that release or a later one again; the catalog was left as it is')
}

/**
 * knex checks for its lock row and then inserts it: two processes opening a new catalog together can insert two
 * rows, after which every lock attempt updates both and fails for ever. Create the table and its one row
 * idempotently first, and repair a catalog that already has the extra row.
 */
async function ensureSingleLockRow(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable('knex_migrations_lock'))) {
    try {
      await db.schema.createTable('knex_migrations_lock', t => {
        t.increments('index').primary()
        t.integer('is_locked')
      })
    } catch (error) {
      if (!/already exists/i.test((error as Error).message)) throw error
    }
  }

  await db('knex_migrations_lock').insert({index: 1, is_locked: 0}).onConflict('index').ignore()
  await db('knex_migrations_lock').whereNot('index', 1).delete()
}
