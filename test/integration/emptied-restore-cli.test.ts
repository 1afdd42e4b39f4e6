import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {smartScan} from '../../src/engine/smartscan/smart-scan.js'
import {runCli} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

const GLOBAL = {level: 'global' as const, target: ''}
const ISO = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`

function message(subject: string): Buffer {
  return Buffer.from(`Message-ID: <${subject}@example.test>\r\nSubject: ${subject}\r\n\r\nHello from ${subject}.\r\n`)
}

describe('backup doRestoreOnNewAccount at last of an account just emptied, through bin/run.js', () => {
  let dovecot: TestDovecot
  let t: TestCatalog
  let secrets: string

  beforeEach(async () => {
    dovecot = await getTestDovecot()
    t = await openTestCatalog('sqlite')
    secrets = mkdtempSync(path.join(tmpdir(), 'carbonio-secrets-'))
    const passwordFile = path.join(secrets, 'imap-password')
    writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUser', dovecot.masterUser)
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
  })

  afterEach(async () => {
    await t.cleanup()
    rmSync(secrets, {force: true, recursive: true})
  })

  /** The capture, in this process: the restores are what this test is about, and each CLI run costs a node start. */
  async function scan(account: string): Promise<void> {
    const report = await smartScan({
      catalog: t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
    }, {account})
    assert.deepEqual(report.failed, [])
  }

  it('warns that the newest state is nearly empty and names the date before the mass deletion, which restores it all', async () => {
    const domain = uniqueDomain()
    const alice = `alice@${domain}`
    const bob = `bob@${domain}`
    const carol = `carol@${domain}`
    for (const user of [alice, bob, carol]) await dovecot.addUser(user, 'pw')
    await dovecot.loadMessages(alice, {INBOX: ['a', 'b', 'c', 'd', 'e', 'f'].map(subject => ({raw: message(subject)}))})
    await scan(alice)
    const client = new ImapFlow({
      host: dovecot.host, port: dovecot.port, secure: false, auth: {user: alice, pass: 'pw'}, logger: false, disableAutoIdle: true,
    })
    client.on('error', () => {})
    await client.connect()
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1:5', {uid: true})
    } finally {
      await client.logout()
    }

    await scan(alice)

    const text = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(text.code, 0, text.stderr)
    const warning = new RegExp(`^WARNING the newest state of ${alice} is nearly empty \\(1 item\\): 5 of its 6 items were deleted `
      + `from ${ISO} to ${ISO}; the last moment before that is (${ISO}): to restore it, give the date (${ISO}) instead of last$`, 'm')
    const match = warning.exec(text.stdout)
    assert.ok(match, text.stdout)
    assert.equal(match[1], match[2])
    assert.match(text.stdout, /: 1 restored, 0 skipped/)

    const json = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last', 'force', 'true', '--json'], t.env)
    assert.equal(json.code, 0, json.stderr)
    const {emptied} = JSON.parse(json.stdout).result
    assert.equal(emptied.lastMomentBefore, match[1])
    assert.deepEqual({remaining: emptied.remaining, itemsBefore: emptied.itemsBefore, deleted: emptied.deleted}, {remaining: 1, itemsBefore: 6, deleted: 5})

    const before = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, match[2], '--json'], t.env)
    assert.equal(before.code, 0, before.stderr)
    const {result} = JSON.parse(before.stdout)
    assert.equal(result.restored, 6)
    assert.equal(result.emptied, null)
  })
})
