import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'
import {
  chmodSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {LoginMode} from '../../../../src/engine/config/attributes.js'

import {ImapError} from '../../../../src/engine/appserver/imap/imap-errors.js'
import {ImapSession} from '../../../../src/engine/appserver/imap/imap-session.js'
import {type ImapSettings, imapSettings} from '../../../../src/engine/appserver/imap/imap-settings.js'
import {UserError} from '../../../../src/engine/errors.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../../../setup/dovecot-server.js'

describe('IMAP session against Dovecot', () => {
  let dovecot: TestDovecot
  let dir: string
  let account: string

  before(async () => {
    dovecot = await getTestDovecot()
    account = `carol@${uniqueDomain()}`
    await dovecot.addUser(account)
    await dovecot.loadMessages(account, {INBOX: [{raw: 'Subject: hi\r\n\r\nhello\r\n'}], 'Lists/Dev': [{raw: 'Subject: dev\r\n\r\nx\r\n'}]})
  })

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'carbonio-imap-session-'))
  })

  afterEach(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  function settings(overrides: {loginMode?: LoginMode; password?: string; url?: string} = {}): ImapSettings {
    const passwordFile = path.join(dir, 'password')
    writeFileSync(passwordFile, `${overrides.password ?? dovecot.masterPassword}\n`, {mode: 0o600})
    return imapSettings(new Map([
      ['backupAppServerLoginMode', overrides.loginMode ?? 'sasl-authzid'],
      ['backupAppServerPasswordFile', passwordFile],
      ['backupAppServerUrl', overrides.url ?? dovecot.url],
      ['backupAppServerUser', dovecot.masterUser],
    ]))
  }

  for (const loginMode of ['sasl-authzid', 'master-separator'] as const) {
    it(`opens an account with the master credential (${loginMode}) and lists folders with their status`, async () => {
      const commands: string[] = []
      const session = await ImapSession.open(settings({loginMode}), account, {onCommand: command => commands.push(command)})
      try {
        const folders = await session.folders()
        assert.deepEqual(folders.map(f => [f.path, f.selectable, f.status?.messages]), [['/INBOX', true, 1], ['/Lists/Dev', true, 1]])
        assert.ok(folders.every(f => f.status!.uidvalidity > 0 && f.status!.uidnext === 2 && BigInt(f.status!.highestmodseq) > 0n))
        // One LIST for the names and their status (LIST-STATUS), not a STATUS per folder; and before it only the
        // login (its credentials on the AUTHENTICATE line where SASL-IR allows) and NAMESPACE: no ID, no ENABLE yet.
        assert.deepEqual(commands, ['AUTHENTICATE', 'NAMESPACE', 'LIST'])
        // The first mailbox opened gets the deferred ENABLE just before it, and QRESYNC is in force.
        await session.readFolder('INBOX', null)
        assert.deepEqual(commands.slice(3, 5), ['ENABLE', 'EXAMINE'])
      } finally {
        await session.close()
      }
    })
  }

  it('reads a folder whole, then only what changed since a HIGHESTMODSEQ, with the UIDs expunged since', async () => {
    const session = await ImapSession.open(settings(), account)
    try {
      const whole = await session.readFolder('Lists/Dev', null)
      assert.equal(whole.complete, true)
      assert.deepEqual(whole.messages.map(m => [m.uid, m.headers.subject]), [[1, 'dev']])
      const since = {uidvalidity: whole.status.uidvalidity, highestmodseq: whole.status.highestmodseq}
      const unchanged = await session.readFolder('Lists/Dev', since)
      assert.equal(unchanged.complete, false)
      assert.deepEqual(unchanged.messages, [])
      const bodies = await session.bodies('Lists/Dev', [1, 99])
      assert.deepEqual([...bodies.keys()], [1])
      assert.equal(bodies.get(1)!.toString(), 'Subject: dev\r\n\r\nx\r\n')
      // The read-only session changed nothing: no \Seen from BODY.PEEK[].
      assert.deepEqual((await session.readFolder('Lists/Dev', null)).messages[0].flags, [])
    } finally {
      await session.close()
    }
  })

  it('reads, on a session kept open, the state of the folder now, not the notices of other clients\' changes', async () => {
    // The realtime capture keeps its session between cycles. Another client's changes meanwhile reach it as unsolicited
    // responses during its next command: `* n EXISTS` and `* n FETCH (UID u FLAGS (...) MODSEQ (m))`. Taken as the
    // answer to the read, such a notice made a message just delivered an item with no Message-ID, internal date or size.
    const user = `dave@${uniqueDomain()}`
    await dovecot.addUser(user, 'pw-dave')
    await dovecot.loadMessages(user, {INBOX: [{raw: 'Message-ID: <old@x>\r\nSubject: old\r\n\r\nold\r\n'}]})
    const session = await ImapSession.open(settings(), user)
    const other = new ImapFlow({
      host: dovecot.host, port: dovecot.port, secure: false, auth: {user, pass: 'pw-dave'}, logger: false,
    })
    await other.connect()
    try {
      const first = await session.readFolder('INBOX', null)
      const internalDate = new Date('2024-03-04T05:06:07Z')
      await other.append('INBOX', 'Message-ID: <new@x>\r\nSubject: new\r\n\r\nnew\r\n', [], internalDate)
      const lock = await other.getMailboxLock('INBOX')
      try {
        await other.messageFlagsAdd('1:*', [String.raw`\Flagged`])
      } finally {
        lock.release()
      }

      for (const read of [
        await session.readFolder('INBOX', {uidvalidity: first.status.uidvalidity, highestmodseq: first.status.highestmodseq}),
        await session.readFolder('INBOX', null),
      ]) {
        assert.deepEqual(read.messages.map(m => [m.uid, m.headers.messageId, m.internalDate, m.flags]), [
          [1, '<old@x>', first.messages[0].internalDate, [String.raw`\Flagged`]],
          [2, '<new@x>', internalDate.getTime(), [String.raw`\Flagged`]],
        ])
        assert.equal(read.status.uidnext, 3)
        assert.equal(read.status.messages, 2)
      }
    } finally {
      await other.logout()
      await session.close()
    }
  })

  it('lists, after reading a folder, the status that folder has now, not the one it had when read', async () => {
    // The realtime capture keeps its session between cycles, and a cycle met by a conflict lists again on the same one:
    // the folder read first stayed selected, and its LIST-STATUS answer did not move on. A message delivered meanwhile
    // was recorded as seen without ever being read: never in the backup.
    const user = `erin@${uniqueDomain()}`
    await dovecot.addUser(user, 'pw-erin')
    await dovecot.loadMessages(user, {INBOX: [{raw: 'Subject: one\r\n\r\none\r\n'}]})
    const session = await ImapSession.open(settings(), user)
    const other = new ImapFlow({
      host: dovecot.host, port: dovecot.port, secure: false, auth: {user, pass: 'pw-erin'}, logger: false,
    })
    await other.connect()
    try {
      const read = await session.readFolder('INBOX', null)
      assert.equal(read.status.uidnext, 2)
      await other.append('INBOX', 'Subject: two\r\n\r\ntwo\r\n')
      const inbox = (await session.folders()).find(f => f.path === '/INBOX')!
      assert.deepEqual([inbox.status!.uidnext, inbox.status!.messages], [3, 2])
    } finally {
      await other.logout()
      await session.close()
    }
  })

  it('says in one line that the admin password is wrong, without the password', async () => {
    const wrong = 'not-the-password-123'
    const error = await failure(ImapSession.open(settings({password: wrong}), account))
    assert.equal(error.scope, 'server')
    assert.match(error.message, /refused the login of backup-admin \(for carol@.*\): .*backupAppServerPasswordFile/)
    assert.doesNotMatch(error.message, new RegExp(`${wrong}|${dovecot.masterPassword}`))
  })

  it('says in one line that the server cannot be reached', async () => {
    const port = await closedPort()
    const error = await failure(ImapSession.open(settings({url: `imap://127.0.0.1:${port}`}), account))
    assert.equal(error.scope, 'server')
    assert.equal(error.message, `cannot reach the AppServer at imap://127.0.0.1:${port}: connection refused (check backupAppServerUrl and that its IMAP service runs)`)
  })

  it('tells an account the server will not open from a server-wide failure', async () => {
    const error = await failure(ImapSession.open(settings(), `nobody@${uniqueDomain()}`))
    assert.equal(error.scope, 'account')
    assert.match(error.message, /would not open nobody@.* for backup-admin/)
  })

  it('refuses a server without CONDSTORE and QRESYNC in one line', async () => {
    const server = await fakeImapServer('IMAP4rev1 AUTH=PLAIN SASL-IR')
    try {
      const {port} = server.address() as {port: number}
      const error = await failure(ImapSession.open(settings({url: `imap://127.0.0.1:${port}`}), account))
      assert.equal(error.scope, 'server')
      assert.equal(error.message, `the AppServer at imap://127.0.0.1:${port} does not offer CONDSTORE and QRESYNC (RFC 7162): the IMAP connector needs CONDSTORE and QRESYNC to see what changed`)
    } finally {
      server.close()
    }
  })

  it('refuses a password file that others can read, or an incomplete configuration', async () => {
    const loose = settings()
    chmodSync(loose.passwordFile, 0o644)
    await assert.rejects(ImapSession.open(loose, account), (error: Error) => error instanceof UserError && /readable by others: run chmod 600/.test(error.message))
    assert.throws(() => imapSettings(new Map([['backupAppServerUrl', dovecot.url]])), /set backupAppServerUser, backupAppServerPasswordFile/)
  })
})

async function failure(work: Promise<unknown>): Promise<ImapError> {
  try {
    await work
  } catch (error) {
    assert.ok(error instanceof ImapError, `expected an ImapError, got ${(error as Error).stack}`)
    assert.doesNotMatch(error.message, /\n/)
    return error
  }

  assert.fail('expected a failure')
}

function closedPort(): Promise<number> {
  return new Promise(resolve => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** A minimal IMAP server with the given capabilities that accepts any login and says OK to everything. */
function fakeImapServer(capabilities: string): Promise<Server> {
  const server = createServer(socket => {
    socket.write(`* OK [CAPABILITY ${capabilities}] fake ready\r\n`)
    let buffer = ''
    socket.on('data', chunk => {
      buffer += chunk.toString()
      let end: number
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const [tag, command = ''] = line.split(' ')
        if (command.toUpperCase() === 'CAPABILITY') socket.write(`* CAPABILITY ${capabilities}\r\n`)
        if (command.toUpperCase() === 'LOGOUT') socket.write('* BYE\r\n')
        socket.write(`${tag} OK done\r\n`)
        if (command.toUpperCase() === 'LOGOUT') socket.end()
      }
    })
    socket.on('error', () => {})
  })
  return new Promise(resolve => {
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}
