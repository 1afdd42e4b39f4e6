import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {armWhen, killSwitch} from '../helpers/kill-switch.js'
import {runCli, startCli, waitFor} from '../helpers/run-cli.js'

// A rerun of doRestoreOnNewAccount completes an unfinished run without force true only when the messages in the
// destination can be that run's own: a run that ended before it looked at the destination wrote nothing there.
describe('doRestoreOnNewAccount rerun after a run that never reached the destination, through bin/run.js', function () {
  this.timeout(30_000)
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('still refuses a destination holding mail of its own when the failed run before wrote nothing', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('alice one')}, {raw: message('alice two')}]})
    await dovecot.loadMessages(bob, {INBOX: [{raw: message('bob own')}]})
    await scanInProcess(bed, alice)

    // The AppServer unreachable a moment: the run fails before it opens bob.
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', 'imap://127.0.0.1:9')
    const failed = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(failed.code, 1, failed.stderr)
    await setAttribute(t.catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)

    const rerun = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(rerun.code, 1, rerun.stdout)
    assert.match(rerun.stderr, new RegExp(`doRestoreOnNewAccount Failed: ${bob} is not empty \\(1 message\\)`))
    const client = await bed.client(bob)
    const status = await client.status('INBOX', {messages: true})
    assert.equal(status && status.messages, 1)
  })

  it('completes a killed restore of last at the moment that run restored, not at a later last', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    const many = Array.from({length: 800}, (_, i) => ({raw: message(`inbox ${i}`)}))
    await dovecot.loadMessages(alice, {Archive: [{raw: message('filed')}], INBOX: many})
    await scanInProcess(bed, alice)

    // Killed once /Archive (restored first) is in bob, while INBOX is being appended.
    const bobClient = await bed.client(bob)
    const child = startCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    const exited = waitFor(child, 60_000)
    const kill = killSwitch(child, 0)
    await armWhen(child, exited, async () => {
      const archive = await bobClient.status('Archive', {messages: true}).catch(() => false as const)
      return archive !== false && archive.messages === 1
    }, kill)
    assert.equal((await exited).signal, 'SIGKILL', 'the restore ended before its kill: nothing to complete')

    // Then alice files the message elsewhere, and the backup records it.
    const aliceClient = await bed.client(alice)
    await aliceClient.mailboxCreate('Zed')
    await aliceClient.mailboxOpen('Archive')
    assert.ok(await aliceClient.messageMove('1:*', 'Zed', {uid: true}))
    await aliceClient.mailboxClose()
    await scanInProcess(bed, alice)

    const rerun = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env, 60_000)
    assert.equal(rerun.code, 0, rerun.stderr)
    // alice never had the message twice: bob gets it once, where the killed run had put it.
    const folders = await bobClient.list({statusQuery: {messages: true}})
    const held = Object.fromEntries(folders.map(folder => [folder.path, folder.status?.messages ?? 0]))
    assert.deepEqual(held, {Archive: 1, INBOX: 800})
  })
})
