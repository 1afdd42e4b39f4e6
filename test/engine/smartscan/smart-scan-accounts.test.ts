import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'

import {ImapError} from '../../../src/engine/appserver/imap/imap-errors.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {OperationAborted, UserError} from '../../../src/engine/errors.js'
import {smartScan} from '../../../src/engine/smartscan/smart-scan.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {imapScenario, message, type Scenario} from './imap-scenario.js'

const GLOBAL = {level: 'global' as const, target: ''}

/** Every text value of every catalog table, for a search that must find nothing. */
async function catalogText(s: Scenario): Promise<string> {
  const tables = ['accounts', 'account_revisions', 'domains', 'folders', 'folder_revisions', 'items', 'item_revisions', 'checkpoints', 'config', 'operations', 'ingest_errors', 'account_state']
  const parts: string[] = []
  for (const table of tables) parts.push(JSON.stringify(await s.t.catalog.db(table).select()))
  return parts.join('\n')
}

for (const dialect of DIALECTS) {
  describe(`SmartScan of every account (${dialect})`, () => {
    let s: Scenario

    afterEach(async () => {
      await s.cleanup()
    })

    it('scans every account the directory lists, with the master-separator login too, and records a vanished account as deleted', async () => {
      s = await imapScenario(dialect, {loginMode: 'master-separator'})
      const dave = await s.user('dave')
      const erin = await s.user('erin')
      await s.dovecot.loadMessages(dave, {INBOX: [{raw: message('for dave')}]})
      await s.dovecot.loadMessages(erin, {INBOX: [{raw: message('for erin')}], Work: [{raw: message('erin work')}]})
      const first = await s.scan()
      assert.equal(first.accounts, 2)
      assert.equal(first.scanned, 2)
      assert.equal(first.totals.created, 3)
      // One progress line per account, naming it.
      const steps = s.events.flatMap(e => (e.kind === 'step' && e.account ? [e] : []))
      assert.deepEqual(steps.map(e => e.account).sort(), [dave, erin])
      assert.match(steps.find(e => e.account === erin)!.message, /^2 folders, 2 read: new account, 2 new folders, 2 new messages \(\d+ ms\)$/)
      // Captured in full, together: certain, though their marks are written at once from the earliest start.
      assert.deepEqual(await s.t.catalog.db('account_state').where('certain', false).pluck('reason'), [])

      // Another server sharing the catalog backs up its own accounts, which this server's directory never lists.
      const [{id: otherId}] = await s.t.catalog.db('accounts').insert({name: 'frank@elsewhere.test', first_seen: 1, server: 'mail2.example.com'}).returning('id')
      await s.t.catalog.db('checkpoints').insert({
        connector: 'imap', scope: 'frank@elsewhere.test', position: JSON.stringify({folders: {}}), updated_at: 1,
      })
      assert.ok(otherId)

      await s.dovecot.removeUser(erin)
      const second = await s.scan()
      assert.deepEqual(second.deletedAccounts, [erin], 'only an account of this server')
      const row = await s.t.catalog.db('accounts').where({name: erin}).first('deleted_at')
      assert.ok(row.deleted_at !== null)
      assert.equal((await s.liveItems(dave)).length, 1)
    })

    it('tells how far an account still being scanned is, batch by batch, so that a long initial scan does not look hung', async () => {
      s = await imapScenario(dialect)
      const gina = await s.user('gina')
      // Three batches of the scan's 500 messages.
      await s.dovecot.loadMessages(gina, {INBOX: Array.from({length: 1200}, (_, i) => ({raw: message(`gina ${i}`)}))})
      const report = await s.scan({progressEvery: 0})
      assert.equal(report.totals.created, 1200)
      const counters = s.events.flatMap(e => (e.kind === 'counters' ? [e.counters] : []))
      // While gina runs, the counters count her messages so far: they grow before she is scanned.
      const whileRunning = counters.filter(c => c.scanned === 0 && c.running === 1).map(c => c.created)
      assert.ok(whileRunning.length >= 2, `counters while running: ${JSON.stringify(counters)}`)
      assert.ok(whileRunning.some(created => created > 0 && created < 1200), `partial counts: ${whileRunning}`)
      assert.deepEqual(whileRunning, [...whileRunning].sort((a, b) => a - b))
      assert.deepEqual(counters.at(-1), {
        ...counters.at(-1), scanned: 1, running: 0, created: 1200,
      })
      const lines = s.events.flatMap(e => (e.kind === 'step' && e.account === gina ? [e.message] : []))
      assert.match(lines[0], /^still scanning: [\d,]+ new, [\d.]+ MiB read so far, of 1,200 messages on the server$/)
      assert.match(lines.at(-1)!, /^1 folder, 1 read: new account, 1 new folder, 1200 new messages/)
    })

    it('a scan stopped while an account runs ends with counters of what it finished, not that account still running', async () => {
      s = await imapScenario(dialect)
      const gina = await s.user('gina')
      await s.dovecot.loadMessages(gina, {INBOX: Array.from({length: 150}, (_, i) => ({raw: message(`gina ${i}`)}))})
      const controller = new AbortController()
      const counters: Array<Record<string, number>> = []
      const scan = smartScan({
        catalog: s.t.catalog, uuid: 'test', server: 'mail1', signal: controller.signal, progress(event) {
          if (event.kind !== 'counters') return
          counters.push(event.counters)
          if (event.counters.running === 1 && event.counters.created > 0) controller.abort()
        },
      })
      await assert.rejects(scan, OperationAborted)
      assert.ok(counters.some(c => c.running === 1 && c.created > 0), JSON.stringify(counters))
      // The operation's record keeps the last counters: gina is not running any more, and was not scanned.
      assert.deepEqual(counters.at(-1), {
        ...counters.at(-1), scanned: 0, running: 0, created: 0,
      })
    })

    it('goes on past an account it cannot open, then fails naming it', async () => {
      s = await imapScenario(dialect)
      const frank = await s.user('frank')
      await s.dovecot.loadMessages(frank, {INBOX: [{raw: message('for frank')}]})
      const ghost = `ghost@${s.domain}`
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', `${s.dovecot.directoryCommand(s.domain)}; echo ${ghost}`)
      await assert.rejects(s.scan(), (error: Error) => {
        assert.ok(error instanceof UserError)
        assert.match(error.message, new RegExp(`^1 of 2 accounts could not be scanned; ${ghost}: the AppServer at .* would not open ${ghost}`))
        return true
      })
      assert.equal((await s.liveItems(frank)).length, 1)
      assert.ok(s.events.some(e => e.kind === 'warning' && e.account === ghost))
    })

    it('fails when the accounts command lists no account, as daemon once does, rather than succeed having scanned nothing', async () => {
      s = await imapScenario(dialect)
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', 'echo')
      await assert.rejects(s.scan(), {message: 'the accounts command listed no account: echo (check backupAccountsCommand)'})
    })

    it('records no account as deleted when the directory lists one the server cannot open (a warning printed instead of the list)', async () => {
      s = await imapScenario(dialect)
      const hana = await s.user('hana')
      await s.dovecot.loadMessages(hana, {INBOX: [{raw: message('for hana')}]})
      await s.scan()
      // zmprov exiting 0 with a warning on stdout instead of the accounts: 'warning' is no account of the server.
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', 'echo "Warning the LDAP server is slow"')
      await assert.rejects(s.scan(), /1 of 1 account could not be scanned; warning: /)
      const row = await s.t.catalog.db('accounts').where({name: hana}).first('deleted_at')
      assert.equal(row.deleted_at, null, 'an account the broken list left out is not recorded as deleted')
      assert.ok(s.events.some(e => e.kind === 'warning' && /no account is recorded as deleted/.test(e.message)))
    })

    it('stops at once, in one line, on a wrong admin password or an unreachable server, and never writes the password anywhere', async () => {
      s = await imapScenario(dialect)
      const gina = await s.user('gina')
      await s.dovecot.loadMessages(gina, {INBOX: [{raw: message('for gina')}]})
      await s.scan()
      const wrong = 'Wr0ng-Passw0rd-XYZ'
      writeFileSync(s.passwordFile, `${wrong}\n`)
      let error = await s.scan().then(() => assert.fail('expected a failure'), (error_: Error) => error_)
      assert.ok(error instanceof ImapError)
      assert.match(error.message, /^the AppServer at imap:\/\/127\.0\.0\.1:\d+ refused the login of backup-admin \(for gina@.*\): Authentication failed\. \(check /)
      assert.doesNotMatch(error.message, /\n/)

      await setAttribute(s.t.catalog, GLOBAL, 'backupAppServerUrl', 'imap://127.0.0.1:1')
      error = await s.scan().then(() => assert.fail('expected a failure'), (error_: Error) => error_)
      assert.equal(error.message, 'cannot reach the AppServer at imap://127.0.0.1:1: connection refused (check backupAppServerUrl and that its IMAP service runs)')

      const text = await catalogText(s)
      for (const secret of [s.dovecot.masterPassword, wrong]) {
        assert.equal(text.includes(secret), false, 'a password is in the catalog')
        assert.equal(JSON.stringify(s.events).includes(secret), false, 'a password is in the progress')
      }
    })
  })
}
