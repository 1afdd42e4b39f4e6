import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type AddressInfo, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {runCli} from '../../helpers/run-cli.js'

// No server is needed: every URL here fails before or at connecting (port 1 on loopback refuses at once).
describe('CARBONIO_BACKUP_CATALOG_URL errors', () => {
  let home: string

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-url-'))
  })

  after(async () => {
    await rm(home, {force: true, recursive: true})
  })

  const open = (url: string) => openCatalog({env: {CARBONIO_BACKUP_CATALOG_URL: url, CARBONIO_BACKUP_HOME: home}})

  it('hides a password given as ?password= as well as one in the user part', async () => {
    await assert.rejects(open('postgres://backup@127.0.0.1:1/catalog?password=QuerySecret1'), (error: Error) => {
      assert.match(error.message, /^cannot open the catalog at postgres:\/\/backup@127\.0\.0\.1:1\/catalog\?password=\*\*\*: /)
      assert.doesNotMatch(error.message, /QuerySecret1/)
      return true
    })
    await assert.rejects(open('postgres://backup:UserSecret2@127.0.0.1:1/catalog'), (error: Error) => {
      assert.doesNotMatch(error.message, /UserSecret2/)
      return true
    })
  })

  it('refuses a URL that is not postgres:// in one line, without echoing it', async () => {
    for (const url of ['mysql://backup:MySecret3@db.example.com/catalog', 'db.example.com:MySecret3']) {
      await assert.rejects(open(url), (error: Error) => {
        assert.match(error.message, /^CARBONIO_BACKUP_CATALOG_URL is not a PostgreSQL URL .*use postgres:\/\//)
        assert.doesNotMatch(error.message, /MySecret3/)
        return true
      })
    }
  })

  // PostgreSQL holds a session that stops answering mid-authentication until its authentication_timeout (a minute).
  it('a URL without the password the server asks for: one line, and the session hung up at once', async () => {
    const server = await scramServer()
    try {
      const url = `postgres://backup@127.0.0.1:${server.port}/catalog`
      await assert.rejects(open(url), (error: Error) => {
        assert.equal(error.message, `cannot open the catalog at ${url}: the PostgreSQL server asks for a password and `
          + 'CARBONIO_BACKUP_CATALOG_URL gives none: put it in the URL (postgres://user:password@host:5432/db) or in ~/.pgpass')
        return true
      })
      await Promise.race([server.closed, new Promise((_, reject) => {
        setTimeout(() => reject(new Error('the connection to the server is still open 2 s after the error')), 2000)
      })])
    } finally {
      server.stop()
    }
  })
  // pg reads ~/.pgpass itself, and warned on every command that this support is deprecated (a DeprecationWarning
  // of three lines in every cron mail); the README tells administrators to keep the password there.
  it('a password in ~/.pgpass is used with no DeprecationWarning', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-pgpass-'))
    const server = await scramServer()
    try {
      const passFile = path.join(home, 'pgpass')
      await writeFile(passFile, `127.0.0.1:${server.port}:catalog:backup:PgpassSecret4\n`, {mode: 0o600})
      const result = await runCli(['backup', 'getBackupInfo'], {
        CARBONIO_BACKUP_CATALOG_URL: `postgres://backup@127.0.0.1:${server.port}/catalog`, CARBONIO_BACKUP_HOME: home, PGPASSFILE: passFile,
      })
      // Past the point where a client without a password gives up: the fake server's nonce is what fails.
      assert.match(result.stderr, /^Error: cannot open the catalog at .*: SASL: SCRAM-SERVER-FIRST-MESSAGE: server nonce does not start with client nonce$/m)
      assert.equal(result.code, 1)
      assert.doesNotMatch(result.stderr, /DeprecationWarning|pgpass support/)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
      assert.doesNotMatch(result.stderr, /PgpassSecret4/)
    } finally {
      server.stop()
      await rm(home, {force: true, recursive: true})
    }
  })
})

/**
 * A server that asks for a SCRAM password, as PostgreSQL does by default since 14, and then holds the session open
 * (a real server waits for its authentication_timeout, a minute). Resolves `closed` when the client hangs up.
 */
async function scramServer(): Promise<{closed: Promise<void>; port: number; stop(): void}> {
  let hungUp!: () => void
  const closed = new Promise<void>(resolve => {
    hungUp = resolve
  })
  const server = createServer(socket => {
    let messages = 0
    socket.on('data', () => {
      messages++
      // The startup message, then the client's SASLInitialResponse.
      if (messages === 1) socket.write(authentication(10, Buffer.from('SCRAM-SHA-256\0\0')))
      if (messages === 2) socket.write(authentication(11, Buffer.from('r=abc,s=c2FsdA==,i=4096')))
    })
    socket.on('close', () => hungUp())
    socket.on('error', () => {})
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {closed, port: (server.address() as AddressInfo).port, stop: () => server.close()}
}

/** A PostgreSQL Authentication message ('R'): 10 names the SASL mechanisms, 11 continues the exchange. */
function authentication(code: number, data: Buffer): Buffer {
  const message = Buffer.alloc(9 + data.length)
  message.write('R')
  message.writeInt32BE(8 + data.length, 1)
  message.writeInt32BE(code, 5)
  data.copy(message, 9)
  return message
}
