// A throwaway PostgreSQL cluster for the test run: its own data directory in a temporary dir, loopback only, trust
// authentication, fsync off, on a free port. Started at most once per test process, on the first test that asks
// for it, and stopped by the root hooks (test/setup/root-hooks.ts). CARBONIO_TEST_PG_URL points the tests at an
// existing server instead, and then nothing is started or stopped.
import {execFile, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {
  appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync,
} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import pg from 'pg'

import {sharedServer} from './shared-server.js'
import {watchOver} from './watchdog.js'

const run = promisify(execFile)

const PG_ROOT = '/usr/lib/postgresql'
const INSTALL_HINT
  = 'PostgreSQL is needed by the catalog tests and is not installed: apt-get install postgresql (or set CARBONIO_TEST_PG_URL=postgres://user@host:port/db)'

export interface TestPostgres {
  /** A superuser URL on the maintenance database: CREATE DATABASE / DROP DATABASE go through it. */
  readonly adminUrl: string
  /** Milliseconds it took to have the server ready (0 when CARBONIO_TEST_PG_URL was used). */
  readonly startMs: number
  stop(): Promise<void>
}

export interface TestDatabase {
  readonly name: string
  /** URL of the new, empty database: what CARBONIO_BACKUP_CATALOG_URL gets. */
  readonly url: string
  drop(): Promise<void>
}

const shared = sharedServer('carbonio-backup.test-postgres', startTestPostgres)

/** The test server, started on first use. */
export function getTestPostgres(): Promise<TestPostgres> {
  return shared.get()
}

/** Stops the test server if one was started (no-op otherwise). */
export function stopTestPostgres(): Promise<void> {
  return shared.stop()
}

/** A new empty database with a random name on the test server. `drop()` removes it even if clients remain. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const {adminUrl} = await getTestPostgres()
  const name = `carbonio_test_${randomBytes(6).toString('hex')}`
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    // WITH (FORCE) (PostgreSQL 13+) ends sessions a failed test left open instead of failing the cleanup too.
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({connectionString: adminUrl})
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Starts a new cluster (or adopts CARBONIO_TEST_PG_URL). Prefer getTestPostgres(), which starts it only once. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.CARBONIO_TEST_PG_URL
  if (external) return {adminUrl: external, startMs: 0, async stop() {}}

  const started = Date.now()
  const bin = findPostgresBin()
  const owner = clusterOwner()
  const dir = mkdtempSync(path.join(tmpdir(), 'carbonio-test-pg-'))
  if (owner) chownSync(dir, owner.uid, owner.gid)
  const dataDir = path.join(dir, 'data')
  const logFile = path.join(dir, 'server.log')
  const asOwner = (file: string, args: string[]) =>
    owner ? run('runuser', ['-u', 'postgres', '--', file, ...args], {cwd: dir}) : run(file, args, {cwd: dir})

  const pgCtl = path.join(bin, 'pg_ctl')
  const stopArgs = ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-s']
  let running = false
  const watchdog = watchOver({
    name: 'carbonio-test-pg-watchdog',
    dir,
    // $3: data dir, $4: pg_ctl, $5: the user to run pg_ctl as ('' for ourselves).
    stopScript: `
if [ -f "$3/postmaster.pid" ]; then
  if [ -n "$5" ]; then runuser -u "$5" -- "$4" stop -D "$3" -m immediate -w -s; else "$4" stop -D "$3" -m immediate -w -s; fi
fi`,
    args: [dataDir, pgCtl, owner ? 'postgres' : ''],
    stopNow() {
      if (running) {
        running = false
        if (owner) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...stopArgs], {cwd: dir})
        else spawnSync(pgCtl, stopArgs, {cwd: dir})
      }
    },
  })

  try {
    await asOwner(path.join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-E',
      'utf8',
      '--no-locale',
      '--no-sync',
      '--no-instructions',
      '--auth-host=trust',
      '--auth-local=trust',
    ])
    // Writing as root into files initdb created keeps their owner (postgres) and mode.
    writeFileSync(
      path.join(dataDir, 'pg_hba.conf'),
      '# Throwaway test cluster: trust, over TCP loopback only.\nhost all all 127.0.0.1/32 trust\n',
    )
    let lastError: unknown
    // A free port found by binding port 0 may be taken again before postgres binds it: retry a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      appendFileSync(
        path.join(dataDir, 'postgresql.conf'),
        [
          '',
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          "unix_socket_directories = ''",
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          'shared_buffers = 16MB',
          'max_connections = 100',
          '',
        ].join('\n'),
      )
      try {
        await asOwner(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-s'])
        running = true
        const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
        const startMs = Date.now() - started
        process.stderr.write(`test PostgreSQL (${bin}) on 127.0.0.1:${port}, ready in ${startMs} ms\n`)
        return {
          adminUrl,
          startMs,
          async stop() {
            await watchdog.stop(async () => {
              if (running) {
                running = false
                await asOwner(pgCtl, stopArgs)
              }
            })
          },
        }
      } catch (error) {
        lastError = error
      }
    }

    throw lastError
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : ''
    watchdog.stopSync()
    throw new Error(`cannot start the test PostgreSQL from ${bin}: ${(error as Error).message.trim()}${log ? ` (log: ${log})` : ''}`)
  }
}

/** The newest installed /usr/lib/postgresql/<version>/bin with initdb, pg_ctl and postgres. */
function findPostgresBin(): string {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT) : []
  const bins = versions
  .filter(version => /^\d+(\.\d+)?$/.test(version))
  .sort((a, b) => Number(b) - Number(a))
  .map(version => path.join(PG_ROOT, version, 'bin'))
  .filter(bin => ['initdb', 'pg_ctl', 'postgres'].every(tool => existsSync(path.join(bin, tool))))
  if (bins.length === 0) throw new Error(INSTALL_HINT)
  return bins[0]
}

/** postgres refuses to run as root: as root, the cluster belongs to the `postgres` system user. */
function clusterOwner(): undefined | {gid: number; uid: number} {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .find(entry => entry.startsWith('postgres:'))
  if (!line) throw new Error(`running as root needs the postgres system user, which is missing: ${INSTALL_HINT}`)
  // name:password:uid:gid:...
  const fields = line.split(':')
  return {gid: Number(fields[3]), uid: Number(fields[2])}
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
