import type pg from 'pg'

import knexFactory, {type Knex} from 'knex'
import {
  chmodSync, closeSync, openSync, statSync,
} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

import {ensurePrivateDirectory, resolveBackupHome} from '../backup-home.js'
import {UserError} from '../errors.js'
import {storageFailure} from '../storage-errors.js'
import {type Catalog, CATALOG_FILE} from './catalog.js'
import {migrateToLatest} from './migrations.js'
import {closeFailedConnections} from './pg-closing-client.js'

/**
 * knex warns on stderr about migration lock retries that migrateToLatest handles; users would read them as
 * failures. Real errors still surface as exceptions; knex's warnings show with DEBUG set.
 */
const QUIET_KNEX_LOG = {
  warn(message: unknown) {
    if (process.env.DEBUG) console.error(message)
  },
  deprecate() {},
  debug() {},
  error(message: unknown) {
    if (process.env.DEBUG) console.error(message)
  },
}

export interface OpenCatalogOptions {
  env?: NodeJS.ProcessEnv
  /** Skip migrations: only for tools that inspect a catalog as it is. */
  migrate?: boolean
}

/**
 * Opens (and on first use creates and migrates) the catalog. SQLite in the backup home is the default;
 * CARBONIO_BACKUP_CATALOG_URL=postgres://... selects a shared PostgreSQL catalog for several mail servers.
 */
export async function openCatalog(options: OpenCatalogOptions = {}): Promise<Catalog> {
  const env = options.env ?? process.env
  const home = ensurePrivateDirectory(resolveBackupHome(env))
  const url = env.CARBONIO_BACKUP_CATALOG_URL
  const catalog = url ? openPostgres(url, home) : openSqlite(home)
  try {
    if (options.migrate !== false) await migrateToLatest(catalog.db)
  } catch (error) {
    await catalog.close()
    throw storageFailure(error, home) ?? new UserError(`cannot open the catalog at ${catalog.location}: ${catalogErrorText(error as Error, catalog.location)}`)
  }

  return catalog
}

/**
 * pg's own words say what failed, not what to do: a server that asks for a password the URL does not give (SCRAM,
 * PostgreSQL's default since 14) speaks of a protocol message; a user that may not create tables, of the knex
 * statement that tried. Each common first-setup mistake gets its fix, in the names of the URL.
 */
function catalogErrorText(error: Error, location: string): string {
  if (/client password must be a (non-empty )?string/.test(error.message)) {
    return 'the PostgreSQL server asks for a password and CARBONIO_BACKUP_CATALOG_URL gives none: '
      + 'put it in the URL (postgres://user:password@host:5432/db) or in ~/.pgpass'
  }

  const url = URL.canParse(location) ? new URL(location) : undefined
  const user = decodeURIComponent(url?.username ?? '') || 'the user'
  const database = decodeURIComponent(url?.pathname.slice(1) ?? '') || 'the database'
  switch ((error as NodeJS.ErrnoException).code) {
  case '3D000': {
    return `${error.message}: create it, owned by ${user} (createdb -O "${user}" "${database}"), then run the command again`
  }

  // insufficient_privilege: since PostgreSQL 15 only a database's owner may create tables in its public schema.
  case '42501': {
    return `${user} may not create the catalog's tables in ${database} (${error.message.replace(/^.* - /, '')}): `
      + `make ${user} the owner of the database (ALTER DATABASE "${database}" OWNER TO "${user}"), then run the command again`
  }

  case 'ECONNREFUSED': {
    return `${error.message}: is PostgreSQL running, and listening on ${url?.host ?? 'that address'} (listen_addresses, port)?`
  }

  default: {
    return error.message
  }
  }
}

function openSqlite(home: string): Catalog {
  requireSqliteDriver()
  const filename = path.join(home, CATALOG_FILE)
  // Create the file 0600 before SQLite does (it would use the umask), and tighten one someone loosened; its -wal
  // and -shm files copy this mode.
  closeSync(openSync(filename, 'a', 0o600))
  if ((statSync(filename).mode & 0o077) !== 0) chmodSync(filename, 0o600)
  const db = knexFactory({
    client: 'sqlite3',
    connection: {filename},
    useNullAsDefault: true,
    log: QUIET_KNEX_LOG,
    pool: {
      // One connection: SQLite has one writer anyway, and a second pooled connection in the same process
      // would only wait on the first one's lock (knex cannot share a transaction across connections).
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (error: Error | null, conn: SqliteConnection) => void) {
        applySqlitePragmas(conn)
        .then(() => done(null, conn))
        .catch((error: Error) => done(error, conn))
      },
    },
  })
  return {
    db, dialect: 'sqlite', home, location: filename, close: () => db.destroy(),
  }
}

/**
 * sqlite3 is a native addon built by its install script, which npm skips under ignore-scripts or an allowScripts
 * policy. Without this check every command would end in knex's 30-line "Could not locate the bindings file".
 */
function requireSqliteDriver(): void {
  try {
    createRequire(import.meta.url)('sqlite3')
  } catch {
    throw new UserError('the SQLite driver (sqlite3) is not built: its install script did not run (ignore-scripts or an allowScripts policy); add allow-scripts=sqlite3 to ~/.npmrc and reinstall the plugin, or run npm rebuild sqlite3')
  }
}

interface SqliteConnection {
  run(sql: string, callback: (error: Error | null) => void): void
}

const SQLITE_PRAGMAS: Array<[string, string]> = [
  // Another process (the daemon, a second CLI) may hold the write lock for one batch; wait for it instead of
  // failing at once with SQLITE_BUSY. First, because switching to WAL itself needs the lock.
  ['busy_timeout', '15000'],
  // Readers never block the writer and the writer never blocks readers: `monitor` in another shell keeps
  // working while an operation or the scanner commits.
  ['journal_mode', 'WAL'],
  // In WAL mode NORMAL never corrupts; an OS crash may roll back the newest commits, and because every
  // checkpoint is committed with the revisions it produced, the scanner then simply re-reads them.
  ['synchronous', 'NORMAL'],
  // The schema declares its references; enforce them as PostgreSQL does so that no dialect is laxer.
  ['foreign_keys', 'ON'],
  // The scanner's batches touch index pages all over a large catalog; the 2 MB default cache re-reads them from
  // disk on every batch. 32 MB (negative = KiB) keeps the hot part of the indexes in memory; more bought little and
  // counted against the daemon's memory budget.
  ['cache_size', '-32768'],
  // The scanner rewrites the same hot index pages batch after batch: copying the WAL back every 4 MB (the default
  // 1000 pages) wrote those pages again and again. One catching-up batch alone writes about 16 MB of pages, so 64 MB
  // lets a page change over several batches per copy (measured: system time of the ingest down by a fifth). The WAL
  // file keeps that size on disk; memory does not grow with it (pages are read back from the file, not kept).
  ['wal_autocheckpoint', '16384'],
]

async function applySqlitePragmas(conn: SqliteConnection): Promise<void> {
  for (const [name, value] of SQLITE_PRAGMAS) {
    await new Promise<void>((resolve, reject) => {
      conn.run(`PRAGMA ${name} = ${value}`, error => (error ? reject(error) : resolve()))
    })
  }
}

function openPostgres(url: string, home: string): Catalog {
  const usage = 'use postgres://user:password@host:5432/db'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UserError(`CARBONIO_BACKUP_CATALOG_URL is not a valid URL: ${usage}`)
  }

  // pg reads any scheme as PostgreSQL: a mysql:// URL or a bare "host:secret" would be tried, and then echoed in
  // full in the error, whatever it holds.
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UserError(`CARBONIO_BACKUP_CATALOG_URL is not a PostgreSQL URL (${parsed.protocol} is not postgres:): ${usage}`)
  }

  // The location is shown in errors and in getBackupInfo: hide the password wherever pg accepts one, the
  // ?password= parameter included.
  if (parsed.password) parsed.password = '***'
  for (const name of ['password', 'sslpassword']) {
    if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***')
  }

  const location = parsed.toString()

  const db: Knex = knexFactory({
    client: 'pg', connection: url, pool: {min: 0, max: 4}, log: QUIET_KNEX_LOG,
  })
  // pg is loaded here, by knex, not by every command of the CLI (a SQLite catalog never needs it). PostgreSQL returns
  // BIGINT (our millisecond timestamps, sizes) as strings to protect precision beyond 2^53; ours stay far below that,
  // and SQLite returns numbers, so both dialects hand back the same JS types.
  const {driver} = db.client as {driver: typeof pg}
  driver.types.setTypeParser(driver.types.builtins.INT8, Number)
  closeFailedConnections(db)
  return {
    db, dialect: 'postgres', home, location, close: () => db.destroy(),
  }
}
