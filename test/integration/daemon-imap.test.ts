import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {message} from '../engine/smartscan/imap-scenario.js'
import {configureAppServerByCli, userClient} from '../helpers/imap-cli-bed.js'
import {
  eventually, outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

const SERVER = 'mail1.example.com'

/** The daemon as systemd runs it, capturing from the IMAP AppServer (no redolog) by polling every account. */
describe('backup daemon with the IMAP AppServer', function () {
  this.timeout(90_000)
  let home: string
  let env: NodeJS.ProcessEnv
  let daemon: ChildProcess | undefined

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-daemon-imap-'))
    env = {CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: SERVER}
  })

  afterEach(() => {
    daemon?.kill('SIGKILL')
    rmSync(home, {recursive: true, force: true})
  })

  async function json(args: string[]): Promise<any> {
    const result = await runCli([...args, '--json'], env)
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }

  async function realtime(): Promise<any> {
    return (await json(['backup', 'getServices'])).services.find((s: any) => s.name === 'backup-realtime')
  }

  function firstCycle(): Promise<any> {
    return eventually('a first IMAP cycle', async () => {
      const status = await realtime()
      return status?.state === 'running' && status.detail.lastCycleAt ? status : undefined
    }, 30_000)
  }

  /** One account holding one message, and the plugin configured for the test Dovecot by the CLI. */
  async function aliceWithOneMessage(): Promise<{alice: string; dovecot: TestDovecot}> {
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    const alice = `alice@${domain}`
    await dovecot.addUser(alice, 'alice-pw')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('first')}]})
    await configureAppServerByCli(env, home, dovecot, dovecot.directoryCommand(domain))
    return {alice, dovecot}
  }

  it('captures a message appended by a mail client, reports it in getServices, and stops on SIGTERM', async () => {
    const {alice, dovecot} = await aliceWithOneMessage()

    daemon = startCli(['backup', 'daemon'], env)
    const running = await firstCycle()
    assert.equal(running.detail.connector, 'imap')
    assert.equal(running.detail.accountsFollowed, 1)

    const client = await userClient(dovecot, alice, 'alice-pw')
    try {
      await client.append('INBOX', message('second'))
    } finally {
      await client.logout()
    }

    const before = running.detail.revisions
    await eventually('the new message committed', async () => ((await realtime()).detail.revisions > before ? true : undefined), 30_000)
    // IMAP has no seq: the line gives the time alone, not "seq -".
    const info = await runCli(['backup', 'getBackupInfo'], env)
    assert.match(info.stdout, /^last transaction: \d{4}-\d\d-\d\dT\S+Z, lag /m)
    daemon.kill('SIGTERM')
    const exit = await waitFor(daemon)
    assert.equal(exit.code, 0, exit.stderr)
    assert.match(exit.stderr, /following the accounts of the IMAP AppServer/)
    // An IMAP capture has no batch to finish: it lets the cycles in flight end, within its grace.
    assert.match(exit.stderr, /backup daemon stopping: finishing the account cycles in flight \(at most 30 s\)/)
    assert.equal((await realtime()).state, 'stopped')
  })

  it('after time off, says that its own first cycles catch up rather than asking for a SmartScan they make needless', async () => {
    const {alice} = await aliceWithOneMessage()
    daemon = startCli(['backup', 'daemon'], env)
    await firstCycle()
    daemon.kill('SIGTERM')
    assert.equal((await waitFor(daemon)).code, 0)

    daemon = startCli(['backup', 'daemon'], env)
    await firstCycle()
    const accounts = (await json(['backup', 'getAvailableAccounts'])).accounts as Array<{account: string; uncertain: boolean}>
    assert.deepEqual(accounts.map(a => [a.account, a.uncertain]), [[alice, false]])
    const log = outputOf(daemon).stderr
    assert.match(log, /backup-realtime: the Realtime Scanner was off from \S+ to \S+: changes made and undone meanwhile are not in the history; /)
    assert.match(log, /the first cycle of each account \(1\) takes in the rest, as a SmartScan would/)
    assert.doesNotMatch(log, /run a SmartScan/)
  })

  it('once true: one sync cycle over every account, then exit; a second run finds nothing new', async () => {
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    const [alice, bob] = [`alice@${domain}`, `bob@${domain}`]
    await dovecot.addUser(alice, 'alice-pw')
    await dovecot.addUser(bob, 'bob-pw')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('alice one')}, {raw: message('alice two')}], Archive: [{raw: message('alice old')}]})
    await dovecot.loadMessages(bob, {INBOX: [{raw: message('bob one')}]})
    await configureAppServerByCli(env, home, dovecot, dovecot.directoryCommand(domain))

    const first = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /synchronised 2 of 2 accounts with the IMAP AppServer \(\d+ folders read, [1-9]\d* revisions\)/)
    const info = await json(['backup', 'getAccountInfo', alice])
    assert.equal(info.counts.liveItems, 3)
    assert.equal((await json(['backup', 'getAccountInfo', bob])).counts.liveItems, 1)
    const again = await json(['backup', 'daemon', 'once', 'true'])
    assert.deepEqual({...again, foldersRead: undefined}, {
      connector: 'imap', accounts: 2, notBackedUp: 0, synchronised: 2, failed: [], foldersRead: undefined, revisions: 0,
    })
    assert.equal(again.foldersRead, 0)
  })

  it('once true: an account that cannot be opened is named, the others synchronised, exit 1', async () => {
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    const carol = `carol@${domain}`
    await dovecot.addUser(carol, 'carol-pw')
    await dovecot.loadMessages(carol, {INBOX: [{raw: message('carol one')}]})
    // The directory lists an account the server does not know.
    const directory = path.join(home, 'accounts.sh')
    writeFileSync(directory, `#!/bin/sh\n${dovecot.directoryCommand(domain)}\necho ghost@${domain}\n`, {mode: 0o700})
    await configureAppServerByCli(env, home, dovecot, directory)

    const once = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.equal(once.code, 1, once.stderr)
    assert.match(once.stderr, new RegExp(`ghost@${domain.replaceAll('.', String.raw`\.`)}: `))
    assert.match(once.stdout, /synchronised 1 of 2 accounts/)
    assert.match(once.stdout, /PARTIAL: 1 account\(s\) could not be synchronised/)
  })

  it('follows a changed password file and AppServer URL while it runs, saying what changed', async () => {
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    await dovecot.addUser(`alice@${domain}`, 'alice-pw')
    await configureAppServerByCli(env, home, dovecot, dovecot.directoryCommand(domain))
    const original = path.join(home, 'imap-password')
    const set = async (name: string, value: string) => {
      const result = await runCli(['config', 'set', 'global', name, value], env)
      assert.equal(result.code, 0, result.stderr)
    }

    daemon = startCli(['backup', 'daemon'], env)
    await eventually('a first IMAP cycle', async () => {
      const status = await realtime()
      return status?.state === 'running' && status.detail.lastCycleAt ? status : undefined
    }, 30_000)

    // Another password file, holding a wrong password: the capture must log in with it now, and so fail.
    const changed = path.join(home, 'imap-password-new')
    writeFileSync(changed, 'not-the-password\n', {mode: 0o600})
    await set('backupAppServerPasswordFile', changed)
    await eventually('the new password file used', async () => ((await realtime()).state === 'failing' ? true : undefined), 30_000)
    assert.match(outputOf(daemon).stderr, new RegExp(`backup-realtime: backupAppServerPasswordFile changed: ${original} -> ${changed}: restarting the realtime capture`))

    await set('backupAppServerUrl', 'imap://127.0.0.1:1')
    await eventually('the new URL followed', async () => (outputOf(daemon!).stderr.includes(`backupAppServerUrl changed: ${dovecot.url} -> imap://127.0.0.1:1`) ? true : undefined), 30_000)
    // Said once the capture under the old URL has stopped, which waits for its cycle in flight.
    await eventually('following the new URL', async () => (/following the accounts of the IMAP AppServer imap:\/\/127\.0\.0\.1:1\n/.test(outputOf(daemon!).stderr) ? true : undefined), 30_000)

    // Both back: capturing again, from a cycle after the change.
    const back = Date.now()
    await set('backupAppServerUrl', dovecot.url)
    await set('backupAppServerPasswordFile', original)
    await eventually('capturing again', async () => {
      const status = await realtime()
      return status.state === 'running' && status.detail.lastCycleAt && Date.parse(status.detail.lastCycleAt) > back ? true : undefined
    }, 30_000)
  })
})
