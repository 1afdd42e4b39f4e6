import assert from 'node:assert/strict'
import {
  mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {runCli, UUID} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

const GLOBAL = {level: 'global' as const, target: ''}

function message(subject: string): string {
  return `Message-ID: <${subject}@example.test>\r\nSubject: ${subject}\r\n\r\nHello from ${subject}.\r\n`
}

/** Every byte under the backup home (catalog, WAL, blobs), as latin1 text, for a search that must find nothing. */
function homeBytes(dir: string): string {
  let text = ''
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) text += readFileSync(path.join(entry.parentPath, entry.name)).toString('latin1')
  }

  return text
}

describe('backup doSmartScan and doAccountScan through bin/run.js', () => {
  let dovecot: TestDovecot
  let t: TestCatalog
  let domain: string
  let passwordFile: string
  let secrets: string

  beforeEach(async () => {
    dovecot = await getTestDovecot()
    t = await openTestCatalog('sqlite')
    domain = uniqueDomain()
    // Outside the backup home, which the test searches for the password.
    secrets = mkdtempSync(path.join(tmpdir(), 'carbonio-secrets-'))
    passwordFile = path.join(secrets, 'imap-password')
    writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
  })

  afterEach(async () => {
    await t.cleanup()
    rmSync(secrets, {force: true, recursive: true})
  })

  async function configure(): Promise<void> {
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUser', dovecot.masterUser)
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
    await setAttribute(t.catalog, GLOBAL, 'backupAccountsCommand', dovecot.directoryCommand(domain))
  }

  it('scans every account as an operation: --json result, one progress line per account, then an incremental no-change scan', async () => {
    await configure()
    const accounts = [`hana@${domain}`, `ivan@${domain}`]
    for (const account of accounts) {
      await dovecot.addUser(account)
      await dovecot.loadMessages(account, {INBOX: [{raw: message(`${account.split('@')[0]}-1`)}, {raw: message(`${account.split('@')[0]}-2`)}], Sent: [{raw: message('sent')}]})
    }

    const json = await runCli(['backup', 'doSmartScan', 'start', '--json'], t.env)
    assert.equal(json.code, 0, json.stderr)
    assert.equal(json.stderr, '')
    const view = JSON.parse(json.stdout)
    assert.equal(view.type, 'doSmartScan')
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.result.scanned, 2)
    assert.equal(view.result.totals.created, 6)
    assert.deepEqual(view.result.domains, [domain])

    const text = await runCli(['backup', 'doSmartScan', 'start'], t.env)
    assert.equal(text.code, 0, text.stderr)
    const [uuid, ...rest] = text.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.deepEqual(rest, ['scanned 2 of 2 accounts: 0 new, 0 moved, 0 flag changes, 0 deleted messages; 0 folders read'])
    for (const account of accounts) {
      const lines = text.stderr.split('\n').filter(line => line.includes(`${account}: `))
      assert.equal(lines.length, 1, text.stderr)
      assert.match(lines[0], /2 folders, 0 read: no change/)
    }

    const deep = await runCli(['backup', 'doAccountScan', accounts[0], 'deep', 'true', '--json'], t.env)
    assert.equal(deep.code, 0, deep.stderr)
    const deepView = JSON.parse(deep.stdout)
    assert.equal(deepView.type, 'doAccountScan')
    assert.deepEqual(deepView.parameters, {account: accounts[0], deep: true})
    assert.equal(deepView.result.totals.verified, 3)
    assert.equal(deepView.result.totals.repaired, 0)
  })

  it('refuses in one line, before any operation, to scan without a configured AppServer', async () => {
    const result = await runCli(['backup', 'doSmartScan', 'start'], t.env)
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    const missing = 'backupAppServerUrl, backupAppServerUser, backupAppServerPasswordFile'
    assert.equal(result.stderr, `Error: the IMAP AppServer is not configured: set ${missing} (carbonio config set global <attribute> <value>)\n`)
    assert.equal(Number((await t.catalog.db('operations').count({n: '*'}))[0].n), 0)
  })

  it('says in one line that imaps:// was given a port without TLS, instead of blaming a certificate', async () => {
    await configure()
    const plain = dovecot.url.replace(/^imap:/, 'imaps:')
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', plain)
    const account = `nina@${domain}`
    await dovecot.addUser(account)
    const result = await runCli(['backup', 'doAccountScan', account], t.env)
    assert.equal(result.code, 1)
    const failures = result.stderr.split('\n').filter(line => line.startsWith('doAccountScan Failed: '))
    assert.deepEqual(failures, [
      `doAccountScan Failed: the AppServer at ${plain} does not speak TLS on that port (ERR_SSL_WRONG_VERSION_NUMBER): use imap:// for it, or imaps:// with the server's TLS port (993)`,
    ], result.stderr)
  })

  it('fails in one line on a wrong password, and the password is nowhere in the output or the backup', async () => {
    await configure()
    const account = `jade@${domain}`
    await dovecot.addUser(account)
    const wrong = 'Typo-In-The-Password-77'
    writeFileSync(passwordFile, `${wrong}\n`)
    const result = await runCli(['backup', 'doAccountScan', account], t.env)
    assert.equal(result.code, 1)
    assert.match(result.stdout.trim(), UUID)
    const failures = result.stderr.split('\n').filter(line => line.includes('refused the login'))
    assert.equal(failures.length, 1, result.stderr)
    const login = `refused the login of backup-admin \\(for ${account}\\): Authentication failed\\.`
    assert.match(failures[0], new RegExp(`^doAccountScan Failed: the AppServer at ${dovecot.url} ${login} \\(check backupAppServerUser`))
    const json = await runCli(['backup', 'doAccountScan', account, '--json'], t.env)
    assert.equal(json.code, 1)
    assert.match(JSON.parse(json.stdout).error, /refused the login of backup-admin/)
    for (const secret of [wrong, dovecot.masterPassword]) {
      assert.equal(`${result.stdout}${result.stderr}${json.stdout}${json.stderr}`.includes(secret), false)
      assert.equal(homeBytes(t.home).includes(secret), false, 'a password is in the backup')
    }
  })
})
