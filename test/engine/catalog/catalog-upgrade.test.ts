import type {Knex} from 'knex'

import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'

import {type CatalogMigration, MIGRATIONS} from '../../../src/engine/catalog/migrations.js'
import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {initialSchema} from '../../../src/engine/catalog/schema/0001-initial-schema.js'
import {purgeCandidatesLegalHold} from '../../../src/engine/catalog/schema/0002-purge-candidates-legal-hold.js'
import {type Dialect, DIALECTS} from '../../helpers/test-catalog.js'
import {createTestDatabase} from '../../setup/postgres-server.js'

// Catalogs that earlier releases left behind, rebuilt from the migrations those releases shipped: an administrator
// upgrades the plugin under a backup months old, and the catalog must open with its history untouched.

/** The migration 0baada6 shipped and 06ca11c removed, exactly as it ran on the catalogs of that version. */
const OPEN_REVISIONS_INDEX_AS_SHIPPED: CatalogMigration = {
  name: '0003-open-revisions-index',
  async up(db) {
    await db.raw('CREATE INDEX item_revisions_open ON item_revisions (item_id, deleted, folder_remote_id, locator, valid_to) WHERE valid_to IS NULL')
  },
  async down(db) {
    await db.raw('DROP INDEX item_revisions_open')
  },
}

async function migrateAs(db: Knex, migrations: CatalogMigration[]): Promise<void> {
  await db.migrate.latest({
    migrationSource: <Knex.MigrationSource<CatalogMigration>>{
      getMigrations: async () => migrations,
      getMigrationName: migration => migration.name,
      getMigration: async migration => ({up: migration.up, down: migration.down}),
    },
  })
}

async function indexExists(catalog: Catalog, name: string): Promise<boolean> {
  const rows = catalog.dialect === 'sqlite'
    ? await catalog.db('sqlite_master').where({type: 'index', name})
    : await catalog.db('pg_indexes').where({indexname: name})
  return rows.length > 0
}

for (const dialect of DIALECTS) {
  describe(`catalog upgrade on ${dialect}`, () => {
    let env: NodeJS.ProcessEnv
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      const home = await mkdtemp(path.join(tmpdir(), `carbonio-backup-test-upgrade-${dialect}-`))
      env = {CARBONIO_BACKUP_HOME: home}
      const database = dialect === ('postgres' as Dialect) ? await createTestDatabase() : undefined
      if (database) env.CARBONIO_BACKUP_CATALOG_URL = database.url
      cleanup = async () => {
        await database?.drop()
        await rm(home, {force: true, recursive: true})
      }
    })

    afterEach(async () => cleanup())

    /** A catalog as a release with these migrations made it, holding one domain as its history. */
    async function catalogOfRelease(migrations: CatalogMigration[]): Promise<void> {
      const old = await openCatalog({env, migrate: false})
      try {
        await migrateAs(old.db, migrations)
        await old.db('domains').insert({name: 'example.com', first_seen: 1_700_000_000_000})
      } finally {
        await old.close()
      }
    }

    it('a catalog of the release with the open-revisions index (0baada6) opens, completes the schema and loses the index', async () => {
      await catalogOfRelease([initialSchema, purgeCandidatesLegalHold, OPEN_REVISIONS_INDEX_AS_SHIPPED])
      const catalog = await openCatalog({env})
      try {
        assert.deepEqual(await catalog.db('domains').pluck('name'), ['example.com'])
        const done: string[] = await catalog.db('knex_migrations').orderBy('id').pluck('name')
        assert.deepEqual([...done].sort(), MIGRATIONS.map(migration => migration.name).sort())
        assert.ok(await catalog.db.schema.hasTable('account_scan_leases'))
        // The index cost the ingest a third more CPU for nothing (06ca11c): the upgrade drops it.
        assert.equal(await indexExists(catalog, 'item_revisions_open'), false)
      } finally {
        await catalog.close()
      }
    })

    it('blobs a purge of a release before 0002 left unreferenced are listed for the next purge', async () => {
      const old = await openCatalog({env, migrate: false})
      try {
        await migrateAs(old.db, [initialSchema])
        const blob = (digest: string) => ({
          digest, size: 10, stored: true, created_at: 1_700_000_000_000, last_referenced_at: 1_700_000_000_000,
        })
        await old.db('blobs').insert([blob('a'.repeat(64)), blob('b'.repeat(64))])
        const [account] = await old.db('accounts').insert({name: 'alice@example.com', first_seen: 1}).returning('id')
        const [item] = await old.db('items').insert({
          account_id: account.id, remote_id: '1', type: 'message', first_seen: 1,
        }).returning('id')
        await old.db('item_revisions').insert({
          item_id: item.id, valid_from: 1, operation: 'created', flags: '[]', tags: '[]', metadata: '{}', blob_digest: 'a'.repeat(64),
        })
      } finally {
        await old.close()
      }

      // 'b' lost its last reference in a purge killed before it removed the blob: only that purge's memory knew it.
      const catalog = await openCatalog({env})
      try {
        assert.deepEqual(await catalog.db('blob_purge_candidates').pluck('digest'), ['b'.repeat(64)])
      } finally {
        await catalog.close()
      }
    })

    it('a catalog a newer release migrated is refused as newer, not called corrupt, and left as it is', async () => {
      await catalogOfRelease([...MIGRATIONS])
      const future = await openCatalog({env, migrate: false})
      try {
        await future.db('knex_migrations').insert({name: '0099-from-a-newer-release', batch: 9, migration_time: new Date()})
      } finally {
        await future.close()
      }

      // What an administrator who went back to this release after the newer one migrated the catalog sees.
      await assert.rejects(openCatalog({env}), (error: Error) => {
        assert.match(error.message, /newer release of carbonio-backup.*0099-from-a-newer-release/)
        assert.doesNotMatch(error.message, /corrupt/)
        return true
      })
      const after = await openCatalog({env, migrate: false})
      try {
        assert.deepEqual(await after.db('knex_migrations_lock').pluck('is_locked'), [0])
        assert.deepEqual(await after.db('domains').pluck('name'), ['example.com'])
      } finally {
        await after.close()
      }
    })
  })
}
