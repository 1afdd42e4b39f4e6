import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

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
})
