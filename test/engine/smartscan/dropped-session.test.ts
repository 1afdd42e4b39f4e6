// A SmartScan of every account while the server drops one account's session mid-FETCH (`doveadm kick`, an imap
// process that crashed or was restarted): that account fails with a line saying so, and the others are still scanned.
// It used to stop the whole SmartScan as if the server were unreachable ("check backupAppServerUrl").
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'

import {smartScan} from '../../../src/engine/smartscan/smart-scan.js'
import {imapTestBed, type ImapTestBed} from '../../helpers/imap-cli-bed.js'

const message = (subject: string) => `Message-ID: <${subject}@example.test>\r\nSubject: ${subject}\r\n\r\nHello from ${subject}.\r\n`

describe('SmartScan when the server drops one account\'s session', () => {
  let bed: ImapTestBed

  beforeEach(async () => {
    bed = await imapTestBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('fails that account with one line and scans the others', async () => {
    const dropped = await bed.user('dropped')
    const others = [await bed.user('other1'), await bed.user('other2')]
    for (const account of [dropped, ...others]) {
      await bed.dovecot.loadMessages(account, {INBOX: [{raw: message(`${account}-1`)}], Work: [{raw: message(`${account}-2`)}]})
    }

    let kicked = false
    const scan = () => smartScan({
      catalog: bed.t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
    }, {
      concurrency: 1,
      onCommand(account, command) {
        // Synchronous, so that the session is gone before the client reads the FETCH's answer.
        if (kicked || account !== dropped || !command.endsWith('FETCH')) return
        kicked = true
        spawnSync('doveadm', ['-c', bed.dovecot.configFile, 'kick', dropped])
      },
    })

    await assert.rejects(scan(), (error: Error) => {
      assert.match(error.message, /^1 of 3 accounts could not be scanned; dropped@\S+: the AppServer at \S+ closed the connection of dropped@/)
      assert.doesNotMatch(error.message, /backupAppServerUrl/)
      return true
    })
    assert.ok(kicked)

    // The others were scanned then: the second run only brings the dropped account's two messages, once.
    const second = await scan()
    assert.deepEqual(second.failed, [])
    assert.equal(second.scanned, 3)
    assert.equal(second.totals.created, 2)
  })
})
