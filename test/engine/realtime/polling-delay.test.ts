// Accounts without a push connection are due every second, but each poll is a login and a LIST-STATUS, a few at a
// time: with 600 accounts on Dovecot (500 beyond the push pool) a change waited 33-51 s, while the README said "about
// every second" and neither getServices nor the log said a word. Here the same on a small scale: one cycle at a time,
// no push, polling every 20 ms, and "behind" meaning later than 40 ms. A round of 12 polls (each a login, which
// forks Dovecot's processes, and a LIST-STATUS) takes well over 60 ms on any machine: 6 accounts polled every 100 ms
// with 150 ms for "behind" kept up on a fast one, and the test failed there.
import assert from 'node:assert/strict'

import {eventually} from '../../helpers/run-cli.js'
import {imapScenario, type Scenario} from '../smartscan/imap-scenario.js'
import {following} from './following.js'

describe('realtime capture whose polling cannot keep up with its accounts', function () {
  this.timeout(60_000)
  let s: Scenario

  beforeEach(async () => {
    s = await imapScenario('sqlite')
  })

  afterEach(async () => {
    await s.cleanup()
  })

  it('says in the log and in its status how far behind the polling runs', async () => {
    for (let i = 0; i < 12; i++) await s.user(`p${i}`)
    const lines: string[] = []
    const saidBehind = async () => (lines.some(line => line.includes('polling runs')) ? true : undefined)
    await following(s, lines, {
      concurrency: 1, maxSessions: 1, pushConnections: 0, intervalMs: 20, pollBehindMs: 40,
    }, async realtime => {
      await eventually('the line saying the polling is behind', saidBehind, 20_000)
      const {pollDelayMs} = realtime.status
      assert.ok(pollDelayMs !== null && pollDelayMs > 40, JSON.stringify(realtime.status))
    })

    assert.equal(lines.filter(line => line.includes('polling runs')).length, 1, lines.join('\n'))
  })
})
