// An account the directory lists but the server does not know, on a Dovecot whose master passdb has no `pass = yes`
// (Dovecot's own master-user example): Dovecot refuses that login as it would a wrong admin password (NO [UNAVAILABLE],
// or the connection closed), not with AUTHORIZATIONFAILED. One stale name must not pause or stop every account.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {imapSettings} from '../../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig} from '../../../src/engine/config/config-store.js'
import {imapCatchUpOnce} from '../../../src/engine/realtime/imap-once.js'
import {eventually} from '../../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../../setup/dovecot-server.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'
import {following} from './following.js'

describe('an account the server does not know, among real ones (master passdb without pass = yes)', function () {
  this.timeout(60_000)
  let dovecot: TestDovecot
  let s: Scenario
  let ghost: string
  let real: string[]

  before(async () => {
    dovecot = await startTestDovecot({masterPassCheck: false})
  })

  after(async () => {
    await dovecot?.stop()
  })

  beforeEach(async () => {
    s = await imapScenario('sqlite', {dovecot})
    real = [await s.user('alice'), await s.user('bob')]
    for (const user of real) await dovecot.loadMessages(user, {INBOX: [{raw: message(`hello ${user}`)}]})
    ghost = `ghost@${s.domain}`
  })

  afterEach(async () => {
    await s.cleanup()
  })

  async function settings() {
    return {...imapSettings(await serverConfig(s.t.catalog, SERVER)), accountsCommand: `echo ${ghost}; ${dovecot.directoryCommand(s.domain)}`}
  }

  it('daemon: the others are followed without pause, the unknown one is named once as its own failure', async () => {
    const lines: string[] = []
    await following(s, lines, {settings: await settings(), concurrency: 1}, async realtime => {
      for (const user of real) await eventually(user, async () => ((await s.liveItems(user)).length === 1 ? true : undefined), 10_000)
      // The unknown account retried after 1, 2 and 4 s meanwhile.
      await new Promise(resolve => {
        setTimeout(resolve, 5000)
      })
      assert.equal(realtime.status.error, undefined, JSON.stringify(realtime.status))
      // getServices shows it too, not the capture merely running.
      assert.equal(realtime.status.accountsFailing, 1)
      assert.deepEqual(Object.keys(realtime.status.accountFailures ?? {}), [ghost])
    })

    const said = lines.filter(line => line.includes(ghost))
    assert.equal(said.length, 1, lines.join('\n'))
    assert.match(said[0], new RegExp(`^backup-realtime: ${ghost.replaceAll('.', String.raw`\.`)}: .*opens other accounts with the same credential`))
    assert.deepEqual(lines.filter(line => /retrying in \d+ s$/.test(line)), [], 'no pause of every account')
  })

  it('daemon: the account last opened being deleted since does not make the next unknown one pause every account', async () => {
    const list = path.join(s.t.home, 'accounts')
    const [alice, bob] = real
    writeFileSync(list, `${alice}\n`)
    const lines: string[] = []
    await following(s, lines, {
      settings: {...await settings(), accountsCommand: `cat ${list}`}, concurrency: 1, accountsRefreshMs: 200,
    }, async realtime => {
      await eventually(alice, async () => ((await s.liveItems(alice)).length === 1 ? true : undefined), 10_000)
      // bob opens last: the credential's witness.
      writeFileSync(list, `${alice}\n${bob}\n`)
      await eventually(bob, async () => ((await s.liveItems(bob)).length === 1 ? true : undefined), 10_000)
      await dovecot.removeUser(bob)
      writeFileSync(list, `${alice}\n${ghost}\n`)
      await eventually(ghost, async () => (realtime.status.accountFailures?.[ghost] ? true : undefined), 10_000)
      assert.equal(realtime.status.error, undefined, JSON.stringify(realtime.status))
    })

    assert.deepEqual(lines.filter(line => /retrying in \d+ s$/.test(line)), [], 'no pause of every account')
  })

  it('daemon once: every real account synchronised, the unknown one reported failed', async () => {
    const totals = await imapCatchUpOnce({
      catalog: s.t.catalog, server: SERVER, settings: await settings(), signal: new AbortController().signal,
    })
    assert.equal(totals.synchronised, 2)
    assert.deepEqual(totals.failed.map(failure => failure.account), [ghost])
    assert.match(totals.failed[0].error, /opens other accounts with the same credential/)
  })
})
