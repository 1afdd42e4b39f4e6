import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import pg from 'pg'

import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {getTestPostgres} from '../../setup/postgres-server.js'

/** Runs a statement as the test server's administrator; its rows. */
async function admin(sql: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({connectionString: (await getTestPostgres()).adminUrl})
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

/** The first setup of a shared PostgreSQL catalog, as an administrator gets it wrong: each mistake says its fix. */
describe('PostgreSQL catalog setup errors', function () {
  this.timeout(30_000)
  const suffix = randomBytes(3).toString('hex')
  const [user, database] = [`backup_${suffix}`, `catalog_${suffix}`]
  let home: string
  let url: (db: string) => string

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-pgsetup-'))
    const admin_ = new URL((await getTestPostgres()).adminUrl)
    url = db => `postgres://${user}@${admin_.host}/${db}`
    await admin(`CREATE ROLE ${user} LOGIN`)
    // Owned by the administrator, as `CREATE DATABASE` run as postgres makes it.
    await admin(`CREATE DATABASE ${database}`)
  })

  after(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin(`DROP ROLE IF EXISTS ${user}`)
    await rm(home, {force: true, recursive: true})
  })

  const open = (db: string) => openCatalog({env: {CARBONIO_BACKUP_CATALOG_URL: url(db), CARBONIO_BACKUP_HOME: home}})

  it('a database the user does not own: names the ALTER DATABASE that fixes it, which does', async function () {
    // Before PostgreSQL 15 anyone could create tables in the public schema: there is no mistake to make.
    if (Number((await admin('SHOW server_version_num'))[0].server_version_num) < 150_000) this.skip()
    await assert.rejects(open(database), (error: Error) => {
      assert.equal(error.message, `cannot open the catalog at ${url(database)}: ${user} may not create the catalog's tables in ${database} `
        + `(permission denied for schema public): make ${user} the owner of the database (ALTER DATABASE "${database}" OWNER TO "${user}"), `
        + 'then run the command again')
      return true
    })
    await admin(`ALTER DATABASE "${database}" OWNER TO "${user}"`)
    const catalog = await open(database)
    await catalog.close()
  })

  it('a database that does not exist: names the createdb that makes it', async () => {
    await assert.rejects(open(`${database}_missing`), (error: Error) => {
      assert.match(error.message, new RegExp(`database "${database}_missing" does not exist: create it, owned by ${user} \\(createdb -O "${user}" "${database}_missing"\\)`))
      return true
    })
  })
})
