// A Dovecot whose imap processes (one per connection) are fewer than the daemon's push connections: the pushes took
// every process, Dovecot closed each new login of the sync cycles without a word, and the daemon captured nothing at
// all, for ever, saying "check backupAppServerUrl and that its IMAP service runs" every 30 s.
import assert from 'node:assert/strict'

import {eventually} from '../../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../../setup/dovecot-server.js'
import {imapScenario, message, type Scenario} from '../smartscan/imap-scenario.js'
import {following} from './following.js'

const PROCESS_LIMIT = 4

describe('realtime capture on a server whose connection limit the push connections reach', function () {
  this.timeout(60_000)
  let dovecot: TestDovecot
  let s: Scenario

  before(async () => {
    dovecot = await startTestDovecot()
    const {appendFileSync} = await import('node:fs')
    appendFileSync(dovecot.configFile, `service imap {\n  process_limit = ${PROCESS_LIMIT}\n}\n`)
    await dovecot.doveadm(['reload'])
  })

  after(async () => {
    await dovecot?.stop()
  })

  beforeEach(async () => {
    s = await imapScenario('sqlite', {dovecot})
  })

  afterEach(async () => {
    await s.cleanup()
  })

  it('gives up push connections until the cycles get in, says so once naming process_limit, and captures every account', async () => {
    const users: string[] = []
    for (let i = 0; i < 6; i++) users.push(await s.user(`u${i}`))
    for (const user of users) await dovecot.loadMessages(user, {INBOX: [{raw: message(`hello ${user}`)}]})
    const lines: string[] = []
    await following(s, lines, {concurrency: 1, pushConnections: 6}, async realtime => {
      for (const user of users) await eventually(user, async () => ((await s.liveItems(user)).length === 1 ? true : undefined), 40_000)
      assert.ok(realtime.status.push.size < PROCESS_LIMIT, JSON.stringify(realtime.status.push))
    })

    const said = lines.filter(line => line.includes('process_limit'))
    assert.ok(said.length > 0 && said.length <= 3, lines.join('\n'))
  })
})
