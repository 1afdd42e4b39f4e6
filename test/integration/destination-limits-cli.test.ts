import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {
  appendFileSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

/** A message over the destination's size limit. */
const big = () => message('big', 'x'.repeat(3000))

/**
 * A destination server with limits: Dovecot's quota plugin counting messages (the accounts that the provisioning
 * script creates may hold 3) and refusing any message over 2 KB, as a new server may be set up stricter than the old.
 */
describe('restores into a destination with a quota and a size limit, through bin/run.js', function () {
  this.timeout(60_000)
  let dovecot: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    dovecot = await startTestDovecot()
    appendFileSync(dovecot.configFile, `mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:messages=100
  quota_max_mail_size = 2k
}
`)
    await dovecot.doveadm(['reload'])
  })

  after(async () => {
    await dovecot?.stop()
  })

  beforeEach(async () => {
    bed = await imapCliBed(dovecot, 'userdb_quota_rule=*:messages=3')
    assert.equal((await runCli(['config', 'set', 'global', 'backupProvisioningCommand', bed.provisionScript], bed.t.env)).code, 0)
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  async function raiseQuota(): Promise<void> {
    const users = path.join(dovecot.dir, 'users')
    writeFileSync(users, readFileSync(users, 'utf8').replaceAll('messages=3', 'messages=100'))
    await dovecot.doveadm(['reload'])
  }

  /** A user of the bed made by the provisioning script: with its quota of 3 messages. */
  async function userWithQuota(name: string): Promise<string> {
    const address = `${name}@${bed.domain}`
    await promisify(execFile)(bed.provisionScript, [address])
    return address
  }

  async function inbox(account: string, mailbox = 'INBOX'): Promise<string[]> {
    const out = await dovecot.doveadm(['fetch', '-u', account, 'hdr.subject', 'mailbox', mailbox])
    return out.split('\n').filter(line => line.startsWith('hdr.subject: ')).map(line => line.slice(13).trim()).sort()
  }

  /** alice, backed up with a message over the size limit between two small ones, and bob to restore her into. */
  async function aliceWithABigMessage(): Promise<{alice: string; bob: string}> {
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('s1')}, {raw: big()}, {raw: message('s2')}]})
    await scanInProcess(bed, alice)
    return {alice, bob}
  }

  /** alice's five messages, to restore into carol, not yet created: INBOX goes in whole, Work's batch would take carol past her 3. */
  async function fiveMessagesForCarol(): Promise<{alice: string; carol: string}> {
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [1, 2].map(i => ({raw: message(`m${i}`)})), Work: [3, 4, 5].map(i => ({raw: message(`m${i}`)}))})
    await scanInProcess(bed, alice)
    return {alice, carol: `carol@${bed.domain}`}
  }

  /**
   * alice with five messages, exported, then gone from the server (the disaster): the import creates her again, with
   * the quota. INBOX goes in whole; Work's batch would take her past her 3, and a refused MULTIAPPEND stores none of it.
   */
  async function exportedAndGone(): Promise<{alice: string; exportDir: string}> {
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [1, 2].map(i => ({raw: message(`m${i}`)})), Work: [3, 4, 5].map(i => ({raw: message(`m${i}`)}))})
    await scanInProcess(bed, alice)
    const exportDir = path.join(bed.t.home, 'export')
    assert.equal((await runCli(['backup', 'doExport', exportDir, 'accounts', alice], bed.t.env)).code, 0)
    await dovecot.removeUser(alice)
    rmSync(dovecot.maildirOf(alice), {recursive: true, force: true})
    return {alice, exportDir}
  }

  it('doRestoreOnNewAccount: a message over the size limit is named and left out, the others go in', async () => {
    const {alice, bob} = await aliceWithABigMessage()

    const run = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], bed.t.env)
    assert.equal(run.code, 1, run.stderr)
    const refused = 'would not append the message to INBOX in bob@\\S+: Mail size is larger than the maximum size allowed by server configuration\n'
    assert.match(run.stdout, new RegExp(`not restored: item \\S+ in /INBOX: the AppServer at \\S+ ${refused}`))
    assert.match(run.stdout, /: 2 restored, 0 skipped \(already there\), 1 unrestored in 1 folders/)
    assert.match(run.stdout, /PARTIAL: 1 item\(s\) could not be restored/)
    assert.deepEqual(await inbox(bob), ['s1', 's2'])
  })

  it('doRestoreOnNewAccount: a server advertising APPENDLIMIT gets the others, the message over it is named', async () => {
    const config = readFileSync(dovecot.configFile, 'utf8')
    writeFileSync(dovecot.configFile, `${config}imap_capability = +APPENDLIMIT=2048\n`)
    await dovecot.doveadm(['reload'])
    try {
      const {alice, bob} = await aliceWithABigMessage()

      const run = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], bed.t.env)
      assert.equal(run.code, 1, run.stderr)
      assert.match(run.stdout, /not restored: item \S+ in \/INBOX: the AppServer at \S+ would not take the message into INBOX in bob@\S+: Message content too big for APPENDLIMIT=2048\n/)
      assert.deepEqual(await inbox(bob), ['s1', 's2'])
    } finally {
      writeFileSync(dovecot.configFile, config)
      await dovecot.doveadm(['reload'])
    }
  })

  it('doUndelete: a message over the size limit is named and left out, the others come back', async () => {
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('s1')}, {raw: big()}, {raw: message('s2')}]})
    await scanInProcess(bed, alice)
    // The big one was taken in before the limit was set, then everything was deleted.
    await dovecot.doveadm(['expunge', '-u', alice, 'mailbox', 'INBOX', 'all'])
    await scanInProcess(bed, alice)

    const run = await runCli(['backup', 'doUndelete', alice, 'first', 'last'], bed.t.env)
    assert.equal(run.code, 1, run.stderr)
    assert.match(run.stdout, /Mail size is larger than the maximum size allowed by server configuration/)
    assert.deepEqual(await inbox(alice), ['s1', 's2'])
  })

  it('doRestoreOnNewAccount into a new account over its quota: fails in one line, then completes once it is raised', async () => {
    const {alice, carol} = await fiveMessagesForCarol()

    const full = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    const failed = full.stderr.split('\n').filter(line => line.startsWith('doRestoreOnNewAccount Failed: '))
    assert.equal(failed.length, 1, full.stderr)
    assert.match(failed[0], new RegExp(`quota exceeded on ${carol} .*Quota exceeded \\(mailbox for user is full\\)\\): raise its quota and run the same command again`))
    assert.deepEqual(await inbox(carol), ['m1', 'm2'])

    // Not empty now, and yet no force true: the failed run is completed.
    await raiseQuota()
    const again = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /: 3 restored, 2 skipped/)
    assert.deepEqual(await inbox(carol), ['m1', 'm2'])
    assert.deepEqual(await inbox(carol, 'Work'), ['m3', 'm4', 'm5'])
  })

  it('doExternalRestore over the quota: the account fails in one line, not a line per message, and completes later', async () => {
    const {alice, exportDir} = await exportedAndGone()

    const full = await runCli(['backup', 'doExternalRestore', exportDir], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    assert.doesNotMatch(full.stdout, /not restored: /)
    assert.match(full.stdout, new RegExp(`quota exceeded on ${alice} .*: raise its quota and run the same command again`))
    // What went in before the quota was reached is counted.
    assert.match(full.stdout, /imported 0 of 1 accounts from \S+: 2 restored, 0 skipped \(already there\), 0 unrestored\n/)
    assert.match(full.stdout, /PARTIAL: 0 message\(s\) and 1 account\(s\) could not be imported/)

    await raiseQuota()
    const again = await runCli(['backup', 'doExternalRestore', exportDir], bed.t.env)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /: 3 restored, 2 skipped \(already there\), 0 unrestored\n/)
    assert.deepEqual(await inbox(alice), ['m1', 'm2'])
    assert.deepEqual(await inbox(alice, 'Work'), ['m3', 'm4', 'm5'])
  })

  it('doRestoreOnNewAccount stopped by the quota ends with its counts and what is left, in text and --json', async () => {
    const {alice, carol} = await fiveMessagesForCarol()

    const full = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last'], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    assert.match(full.stderr, /quota exceeded on /)
    assert.match(full.stdout, new RegExp(`restored ${alice} at \\S+ into ${carol}: 2 restored, 0 skipped \\(already there\\), 0 unrestored in 2 folders, 3 left\\n`))

    const json = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last', '--json'], bed.t.env)
    assert.equal(json.code, 1, json.stderr)
    const view = JSON.parse(json.stdout)
    assert.equal(view.outcome, 'Failed')
    assert.match(view.error, /quota exceeded on /)
    assert.deepEqual(
      {
        restored: view.result.restored, skipped: view.result.skipped, unrestored: view.result.unrestored, left: view.result.left,
      },
      {
        restored: 0, skipped: 2, unrestored: 0, left: 3,
      },
    )
  })

  it('doUndelete stopped by the quota ends with its counts and what is left', async () => {
    const alice = await userWithQuota('alice')
    // Written as files: the quota is only checked on what comes in over IMAP.
    await dovecot.loadMessages(alice, {INBOX: [1, 2].map(i => ({raw: message(`m${i}`)})), Work: [3, 4, 5].map(i => ({raw: message(`m${i}`)}))})
    await scanInProcess(bed, alice)
    for (const mailbox of ['INBOX', 'Work']) await dovecot.doveadm(['expunge', '-u', alice, 'mailbox', mailbox, 'all'])
    await scanInProcess(bed, alice)

    // INBOX goes in; Work's batch would take alice past her 3 messages, and a refused MULTIAPPEND stores none of it.
    const full = await runCli(['backup', 'doUndelete', alice, 'first', 'last'], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    assert.match(full.stderr, /quota exceeded on /)
    assert.match(full.stdout, /: 5 deleted, 2 restored, 0 skipped \(still there\), 0 unrestored in 2 folders, 3 left\n/)

    const json = await runCli(['backup', 'doUndelete', alice, 'first', 'last', '--json'], bed.t.env)
    assert.equal(json.code, 1, json.stderr)
    const {result} = JSON.parse(json.stdout)
    assert.deepEqual({restored: result.restored, skipped: result.skipped, left: result.left}, {restored: 0, skipped: 2, left: 3})
  })

  it('doItemRestore stopped by the quota says the message is left, in text and --json', async () => {
    const alice = await userWithQuota('alice')
    await dovecot.loadMessages(alice, {INBOX: [1, 2, 3].map(i => ({raw: message(`m${i}`)}))})
    await scanInProcess(bed, alice)
    const search = await runCli(['backup', 'doItemSearch', alice, '--json'], bed.t.env)
    const [{id}] = JSON.parse(search.stdout).matches

    const full = await runCli(['backup', 'doItemRestore', alice, id, 'restore_folder', '/Restored'], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    assert.match(full.stderr, /quota exceeded on /)
    assert.match(full.stdout, new RegExp(`item ${id} \\(state of \\S+\\) not restored into /Restored: 0 restored, 0 skipped, 1 left\\n`))

    const json = await runCli(['backup', 'doItemRestore', alice, id, 'restore_folder', '/Restored', '--json'], bed.t.env)
    assert.equal(json.code, 1, json.stderr)
    const {result} = JSON.parse(json.stdout)
    assert.deepEqual({restored: result.restored, skipped: result.skipped, left: result.left}, {restored: false, skipped: false, left: true})
  })

  it('doExternalRestore stopped by the quota counts what is left of the account, in text and --json', async () => {
    const {alice, exportDir} = await exportedAndGone()

    const full = await runCli(['backup', 'doExternalRestore', exportDir], bed.t.env)
    assert.equal(full.code, 1, full.stderr)
    assert.match(full.stdout, new RegExp(`${alice}: created with backupProvisioningCommand, 2 restored, 0 skipped \\(already there\\), 0 unrestored in 2 folders, 3 left\n`))

    const json = await runCli(['backup', 'doExternalRestore', exportDir, '--json'], bed.t.env)
    assert.equal(json.code, 1, json.stderr)
    const {result} = JSON.parse(json.stdout)
    assert.deepEqual({restored: result.restored, skipped: result.skipped, left: result.left}, {restored: 0, skipped: 2, left: 3})
    assert.equal(result.accounts[0].left, 3)
  })
})
