import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {smartScan} from '../../src/engine/smartscan/smart-scan.js'
import {runCli, UUID} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

const GLOBAL = {level: 'global' as const, target: ''}
const JAN = new Date('2026-01-15T08:30:00.000Z')

function message(subject: string): Buffer {
  return Buffer.from(`Message-ID: <${subject}@example.test>\r\nSubject: ${subject}\r\n\r\nHello from ${subject}.\r\n`)
}

/**
 * Every message of the mailbox as "folder sha256 [flags] internal-date", sorted: what another client sees. A fresh
 * connection each time: a session that still has a mailbox selected may not have been told of messages appended since.
 */
async function contents(dovecot: TestDovecot, address: string): Promise<string[]> {
  const client = new ImapFlow({
    host: dovecot.host, port: dovecot.port, secure: false, auth: {user: address, pass: 'pw'}, logger: false, disableAutoIdle: true,
  })
  client.on('error', () => {})
  await client.connect()
  try {
    return await readAll(client)
  } finally {
    await client.logout()
  }
}

async function readAll(client: ImapFlow): Promise<string[]> {
  const lines: string[] = []
  for (const folder of await client.list()) {
    if (folder.flags.has(String.raw`\Noselect`) || folder.flags.has(String.raw`\NonExistent`)) continue
    const lock = await client.getMailboxLock(folder.path, {readOnly: true})
    try {
      if ((client.mailbox as {exists: number}).exists === 0) continue
      for await (const m of client.fetch('1:*', {source: true, flags: true, internalDate: true}, {uid: true})) {
        const flags = [...(m.flags ?? [])].filter(f => f !== String.raw`\Recent`).sort().join(',')
        lines.push(`${folder.path} ${createHash('sha256').update(m.source!).digest('hex')} [${flags}] ${new Date(m.internalDate!).toISOString()}`)
      }
    } finally {
      lock.release()
    }
  }

  return lines.sort()
}

describe('backup doUndelete through bin/run.js', () => {
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

  /** The capture, in this process: the CLI runs below are what this test is about, and each costs a node start. */
  async function scan(account: string): Promise<void> {
    const report = await smartScan({
      catalog: t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
    }, {account})
    assert.deepEqual(report.failed, [])
  }

  /**
   * An account with INBOX (one, two \Seen, three \Flagged $Work) and Work/Plans (plan), scanned; then, by another
   * client, "two" expunged and Work/Plans deleted, and scanned again. Returns the address, that client and what the
   * mailbox held before the deletions.
   */
  async function deletedAfterScan(): Promise<{address: string; before: string[]}> {
    const address = `alice@${uniqueDomain()}`
    await dovecot.addUser(address, 'pw')
    await dovecot.loadMessages(address, {
      INBOX: [
        {raw: message('one'), internalDate: JAN},
        {raw: message('two'), flags: [String.raw`\Seen`], internalDate: JAN},
        {raw: message('three'), flags: [String.raw`\Flagged`, '$Work'], internalDate: JAN},
      ],
      'Work/Plans': [{raw: message('plan'), flags: [String.raw`\Answered`], internalDate: JAN}],
    })
    await scan(address)
    const client = new ImapFlow({
      host: dovecot.host, port: dovecot.port, secure: false, auth: {user: address, pass: 'pw'}, logger: false, disableAutoIdle: true,
    })
    client.on('error', () => {})
    await client.connect()
    const before = await readAll(client)
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('2', {uid: true})
      await client.mailboxClose()
      await client.mailboxDelete('Work/Plans')
    } finally {
      await client.logout()
    }

    await scan(address)
    return {address, before}
  }

  it('puts the deleted messages back into their original folders, byte-identical, and a second run adds nothing', async () => {
    const {address, before} = await deletedAfterScan()
    assert.equal((await contents(dovecot, address)).length, 2)

    const json = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--json'], t.env)
    assert.equal(json.code, 0, json.stderr)
    const view = JSON.parse(json.stdout)
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.result.deleted, 2)
    assert.equal(view.result.restored, 2)
    assert.equal(view.result.skipped, 0)
    assert.equal(view.result.targetOriginalFolder, true)
    assert.deepEqual(await contents(dovecot, address), before)

    const again = await runCli(['backup', 'doundelete', address, 'first', 'last'], t.env)
    assert.equal(again.code, 0, again.stderr)
    const [uuid, ...lines] = again.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.deepEqual(lines, [`undeleted ${address} from first to last into their original folders: 2 deleted, 0 restored, 2 skipped (still there), 0 unrestored in 0 folders`])
    assert.deepEqual(await contents(dovecot, address), before)
  })

  it('with target_original_folder false puts them under "Undeleted <day>", and refuses a window backwards', async () => {
    const {address, before} = await deletedAfterScan()
    const day = new Date().toISOString().slice(0, 10)
    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', 'target_original_folder', 'false'], t.env)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, new RegExp(`into /Undeleted ${day}: 2 deleted, 2 restored, 0 skipped`))
    const kept = before.filter(line => line.includes(createHash('sha256').update(message('one')).digest('hex')) || line.includes(createHash('sha256').update(message('three')).digest('hex')))
    const back = before.filter(line => !kept.includes(line)).map(line => `Undeleted ${day}/${line}`)
    assert.deepEqual(await contents(dovecot, address), [...kept, ...back].sort())

    const again = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--target_original_folder=false', '--json'], t.env)
    assert.equal(JSON.parse(again.stdout).result.restored, 0)
    assert.equal((await contents(dovecot, address)).length, 4)

    const backwards = await runCli(['backup', 'doUndelete', address, 'last', 'first'], t.env)
    assert.equal(backwards.code, 2)
    assert.match(backwards.stderr, /start must be a date or first, not last/)
  })
})
