import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {
  chmod, mkdir, mkdtemp, rm,
} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'

import {CATALOG_FILE} from '../../../src/engine/catalog/catalog.js'
import {MIGRATIONS} from '../../../src/engine/catalog/migrations.js'
import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {
  type Dialect, DIALECTS, openTestCatalog, type TestCatalog,
} from '../../helpers/test-catalog.js'
import {createTestDatabase} from '../../setup/postgres-server.js'

const SCHEMA_SOURCE = new URL('../../../src/engine/catalog/schema/0001-initial-schema.ts', import.meta.url)

/** Every table the initial schema creates, read from its source so that a table added there is checked here too. */
function schemaTables(): string[] {
  const source = readFileSync(SCHEMA_SOURCE, 'utf8')
  return [...source.matchAll(/createTable\(\s*'([a-z_]+)'/g)].map(match => match[1])
}

async function listTables(catalog: Catalog): Promise<string[]> {
  const {db} = catalog
  const names: string[]
    = catalog.dialect === 'sqlite'
      ? await db('sqlite_master').where({type: 'table'}).pluck('name')
      : await db('information_schema.tables').whereRaw('table_schema = current_schema()').pluck('table_name')
  return names.sort()
}

async function indexExists(catalog: Catalog, name: string): Promise<boolean> {
  const {db} = catalog
  const rows
    = catalog.dialect === 'sqlite'
      ? await db('sqlite_master').where({type: 'index', name})
      : await db('pg_indexes').where({indexname: name})
  return rows.length === 1
}

async function migrationRows(catalog: Catalog): Promise<Array<{batch: number; id: number; name: string}>> {
  return catalog.db('knex_migrations').select('id', 'name', 'batch').orderBy('id')
}

/** Environment for a catalog that does not exist yet: a home directory not yet created, an empty database. */
async function newCatalogEnv(dialect: Dialect): Promise<{cleanup(): Promise<void>; env: NodeJS.ProcessEnv}> {
  const parent = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-new-'))
  const env: NodeJS.ProcessEnv = {CARBONIO_BACKUP_HOME: path.join(parent, 'home')}
  const database = dialect === 'postgres' ? await createTestDatabase() : undefined
  if (database) env.CARBONIO_BACKUP_CATALOG_URL = database.url
  return {
    env,
    async cleanup() {
      await database?.drop()
      await rm(parent, {force: true, recursive: true})
    },
  }
}

// Above 2^32 so that a driver truncating to a 32-bit integer, or returning a string, is caught.
const T0 = 1_700_000_000_123

function operationRow(state: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: randomUUID(),
    type: 'doSmartScan',
    state,
    server: 'mail.example.com',
    host: 'mail.example.com',
    pid: 4242,
    parameters: '{}',
    progress: '{}',
    created_at: T0,
    heartbeat_at: T0 + 1,
    ...overrides,
  }
}

/** A file's permission bits as '0700', for readable assertion messages. */
function octalMode(file: string): string {
  return `0${(statSync(file).mode & 0o777).toString(8)}`
}

const UNIQUE_VIOLATION = /UNIQUE constraint failed|duplicate key value violates unique constraint/

for (const dialect of DIALECTS) {
  describe(`catalog on ${dialect}`, () => {
    let tc: TestCatalog | undefined

    afterEach(async () => {
      await tc?.cleanup()
      tc = undefined
    })

    it('migrations create every table of the initial schema, and record the migration once', async () => {
      tc = await openTestCatalog(dialect)
      assert.equal(tc.catalog.dialect, dialect)
      const expected = schemaTables()
      // The source parse itself must work, or the comparison below would pass vacuously.
      assert.ok(expected.length >= 17, `found only ${expected.length} tables in ${SCHEMA_SOURCE.pathname}`)
      assert.ok(expected.includes('operations') && expected.includes('item_revisions'))
      const tables = await listTables(tc.catalog)
      const missing = expected.filter(table => !tables.includes(table))
      assert.deepEqual(missing, [], `tables missing after migration: ${missing.join(', ')}`)
      assert.ok(await indexExists(tc.catalog, 'operations_one_running'), 'index operations_one_running is missing')
      const rows = await migrationRows(tc.catalog)
      assert.deepEqual(
        rows.map(row => row.name),
        MIGRATIONS.map(migration => migration.name),
      )
    })

    it('reopening a migrated catalog is a no-op that keeps the data', async () => {
      tc = await openTestCatalog(dialect)
      await tc.catalog.db('domains').insert({name: 'example.com', first_seen: T0})
      const migrationsBefore = await migrationRows(tc.catalog)
      const tablesBefore = await listTables(tc.catalog)

      const again = await openCatalog({env: tc.env})
      try {
        assert.equal(again.dialect, dialect)
        assert.deepEqual(await migrationRows(again), migrationsBefore)
        assert.deepEqual(await listTables(again), tablesBefore)
        assert.deepEqual(await again.db('domains').pluck('name'), ['example.com'])
        const locks = await again.db('knex_migrations_lock').select('is_locked')
        assert.deepEqual(locks, [{is_locked: 0}], 'the migration lock must be free after a reopen')
      } finally {
        await again.close()
      }
    })

    it('two openCatalog calls racing on a new catalog both succeed and migrate it once', async () => {
      // Each round is a fresh catalog: the race only exists while nothing is migrated yet.
      for (let round = 0; round < 10; round++) {
        const fresh = await newCatalogEnv(dialect)
        const results = await Promise.allSettled([openCatalog({env: fresh.env}), openCatalog({env: fresh.env})])
        const opened = results.flatMap(result => (result.status === 'fulfilled' ? [result.value] : []))
        try {
          const failures = results.flatMap(result =>
            result.status === 'rejected' ? [(result.reason as Error).message] : [])
          assert.deepEqual(failures, [], `round ${round}: an opener lost the migration race`)
          for (const catalog of opened) {
            assert.deepEqual(
              (await migrationRows(catalog)).map(row => row.name),
              MIGRATIONS.map(migration => migration.name),
            )
          }

          const tables = await listTables(opened[0])
          assert.deepEqual(schemaTables().filter(table => !tables.includes(table)), [])
          assert.deepEqual(await opened[0].db('knex_migrations_lock').select('is_locked'), [{is_locked: 0}])
        } finally {
          for (const catalog of opened) await catalog.close()
          await fresh.cleanup()
        }
      }
    })

    it("the partial unique index allows only one operations row with state 'running'", async () => {
      tc = await openTestCatalog(dialect)
      const {db} = tc.catalog
      await db('operations').insert(operationRow('running'))
      await assert.rejects(db('operations').insert(operationRow('running')), UNIQUE_VIOLATION)
      // Only 'running' is constrained: any number of operations may wait or have ended.
      await db('operations').insert([operationRow('queued'), operationRow('queued'), operationRow('completed')])
      await db('operations').insert(operationRow('completed'))
      assert.equal(await db('operations').where({state: 'running'}).count({n: '*'}).first().then(row => row?.n), 1)
      // Once the running one ends, the next may start.
      await db('operations').where({state: 'running'}).update({state: 'completed'})
      await db('operations').insert(operationRow('running'))
      await assert.rejects(
        db('operations').where({state: 'queued'}).update({state: 'running'}),
        UNIQUE_VIOLATION,
        'promoting two queued operations at once must fail too',
      )
    })

    it('BIGINT columns come back as JS numbers', async () => {
      tc = await openTestCatalog(dialect)
      const {db} = tc.catalog
      const big = (2 ** 52) + 7 // the largest magnitude we promise to round-trip exactly is 2^53 - 1
      await db('operations').insert(operationRow('completed', {started_at: T0 + 2, ended_at: big}))
      const row = await db('operations').first('seq', 'created_at', 'heartbeat_at', 'started_at', 'ended_at')
      assert.ok(row)
      for (const column of ['seq', 'created_at', 'heartbeat_at', 'started_at', 'ended_at'] as const) {
        assert.equal(typeof row[column], 'number', `${column} is a ${typeof row[column]} (${row[column]})`)
      }

      assert.deepEqual(row, {
        seq: 1, created_at: T0, heartbeat_at: T0 + 1, started_at: T0 + 2, ended_at: big,
      })
      await db('blobs').insert({
        digest: 'a'.repeat(64), size: 5_000_000_000, created_at: T0, last_referenced_at: T0,
      })
      assert.deepEqual(await db('blobs').first('size', 'created_at'), {size: 5_000_000_000, created_at: T0})
      // COUNT(*) is a BIGINT on PostgreSQL too.
      const count = await db('operations').count({n: '*'}).first()
      assert.strictEqual(count?.n, 1)
    })

    if (dialect === 'sqlite') {
      describe('sqlite only', () => {
        let previousUmask: number | undefined
        let scratch: string | undefined

        afterEach(async () => {
          if (previousUmask !== undefined) process.umask(previousUmask)
          previousUmask = undefined
          if (scratch) await rm(scratch, {force: true, recursive: true})
          scratch = undefined
        })

        it('the home is 0700 and the catalog files 0600 even with umask 022', async () => {
          previousUmask = process.umask(0o022)
          scratch = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-modes-'))
          const homes = [path.join(scratch, 'new', 'home'), path.join(scratch, 'loose')]
          // An existing home that someone opened up must be tightened, not just a new one created right.
          await mkdir(homes[1], {mode: 0o755})
          await chmod(homes[1], 0o755)
          for (const home of homes) {
            const catalog = await openCatalog({env: {CARBONIO_BACKUP_HOME: home}})
            try {
              // A write while the connection is open: in WAL mode this creates -wal and -shm.
              await catalog.db('domains').insert({name: 'example.com', first_seen: T0})
              assert.equal(octalMode(home), '0700', `${home}`)
              const file = path.join(home, CATALOG_FILE)
              assert.equal(catalog.location, file)
              assert.equal(octalMode(file), '0600', file)
              assert.ok(existsSync(`${file}-wal`), 'no -wal file: is the catalog in WAL mode?')
              for (const suffix of ['-wal', '-shm']) {
                if (existsSync(file + suffix)) assert.equal(octalMode(file + suffix), '0600', file + suffix)
              }
            } finally {
              await catalog.close()
            }
          }
        })

        it('PRAGMAs: WAL journal, 15 s busy timeout, foreign keys enforced', async () => {
          tc = await openTestCatalog(dialect)
          const {db} = tc.catalog
          const pragma = async (name: string) => {
            const rows = (await db.raw(`PRAGMA ${name}`)) as Array<Record<string, unknown>>
            return Object.values(rows[0])[0]
          }

          assert.equal(await pragma('journal_mode'), 'wal')
          assert.equal(await pragma('busy_timeout'), 15_000)
          assert.equal(await pragma('foreign_keys'), 1)
          // And foreign keys really are enforced, not just reported.
          await assert.rejects(
            db('domain_revisions').insert({
              domain_id: 999, valid_from: T0, operation: 'scan', settings: '{}',
            }),
            /FOREIGN KEY constraint failed/,
          )
        })
      })
    }
  })
}
