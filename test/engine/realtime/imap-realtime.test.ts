import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {type ImapSettings, imapSettings} from '../../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig, setAttribute} from '../../../src/engine/config/config-store.js'
import {RealtimeService} from '../../../src/engine/daemon/realtime-service.js'
import {imapCatchUpOnce} from '../../../src/engine/realtime/imap-once.js'
import {ImapRealtime, type ImapRealtimeOptions} from '../../../src/engine/realtime/imap-realtime.js'
import {scanAccount} from '../../../src/engine/smartscan/account-scan.js'
import {leaseAccountScan} from '../../../src/engine/smartscan/scan-lease.js'
import {GLOBAL} from '../../helpers/imap-cli-bed.js'
import {eventually} from '../../helpers/run-cli.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, type LiveItem, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'
import {following as followingBed} from './following.js'

/** Generous: a cycle runs every second; this only bounds a broken test. */
const CAPTURED_MS = 20_000

for (const dialect of DIALECTS) {
  describe(`realtime capture from Dovecot by polling (${dialect})`, function () {
    this.timeout(120_000)
    let s: Scenario
    let service: RealtimeService | undefined
    const lines: string[] = []

    beforeEach(async () => {
      s = await imapScenario(dialect)
      lines.length = 0
    })

    afterEach(async () => {
      await service?.stop()
      service = undefined
      await s.cleanup()
    })

    async function start(): Promise<RealtimeService> {
      service = new RealtimeService(s.t.catalog, SERVER, line => lines.push(line))
      await service.reconcile(await serverConfig(s.t.catalog, SERVER))
      return service
    }

    /** The test's server settings as its catalog has them now. */
    async function settingsNow(): Promise<ImapSettings> {
      return imapSettings(await serverConfig(s.t.catalog, SERVER))
    }

    /** Runs an ImapRealtime on the test's catalog (its settings unless given) while `during` runs, then stops it. */
    function following(options: Partial<ImapRealtimeOptions>, during: (realtime: ImapRealtime) => Promise<void>): Promise<void> {
      return followingBed(s, lines, options, during)
    }

    /** Waits until the account's live items satisfy the check. */
    function captured(address: string, what: string, check: (items: LiveItem[]) => boolean): Promise<LiveItem[]> {
      return eventually(what, async () => {
        const items = await s.liveItems(address)
        return check(items) ? items : undefined
      }, CAPTURED_MS)
    }

    it('captures an append, a flag change, a move and an expunge made by another client', async () => {
      const alice = await s.user('alice')
      await s.dovecot.loadMessages(alice, {INBOX: [{raw: message('already there')}]})
      const client: ImapFlow = await s.client(alice)
      await client.mailboxCreate('Archive')
      const realtime = await start()
      await captured(alice, 'the existing message', items => items.length === 1)
      const {status} = realtime
      assert.equal(status.state, 'running')
      assert.equal(status.detail.connector, 'imap')
      assert.equal(status.detail.accountsFollowed, 1)
      assert.ok(status.detail.lastCycleAt)

      await client.append('INBOX', message('appended live'))
      let items = await captured(alice, 'the appended message', list => list.length === 2)
      const appended = items.find(item => item.metadata.subject === 'appended live' || JSON.stringify(item.metadata).includes('appended live'))
      assert.ok(appended, JSON.stringify(items))

      const lock = await client.getMailboxLock('INBOX')
      try {
        const uid = Number(appended.locator!.split('/').at(-1))
        await client.messageFlagsAdd(String(uid), [String.raw`\Flagged`], {uid: true})
        await captured(alice, 'the flag', list => list.some(item => item.id === appended.id && item.flags.includes(String.raw`\Flagged`)))
        await client.messageMove(String(uid), 'Archive', {uid: true})
      } finally {
        lock.release()
      }

      items = await captured(alice, 'the move', list => list.some(item => item.path === '/Archive'))
      assert.equal(items.length, 2)
      assert.ok(items.some(item => item.path === '/Archive' && item.id === appended.id), 'a MOVE keeps the item')

      const archive = await client.getMailboxLock('Archive')
      try {
        await client.messageDelete('1:*', {uid: true})
      } finally {
        archive.release()
      }

      items = await captured(alice, 'the expunge', list => list.length === 1)
      assert.equal(items[0].path, '/INBOX')
      const revisions = await s.revisions(alice, appended.id)
      assert.ok(revisions.at(-1)!.deleted)
    })

    it('stops after its cycle when ZxBackup_RealTimeScanner is FALSE, and captures nothing more', async () => {
      const carol = await s.user('carol')
      const realtime = await start()
      await eventually('carol followed', async () => (realtime.status.detail.accountsFollowed === 1 ? true : undefined), CAPTURED_MS)
      const client = await s.client(carol)
      await client.append('INBOX', message('carol live'))
      await captured(carol, 'carol', items => items.length === 1)
      await realtime.reconcile(new Map([...await serverConfig(s.t.catalog, SERVER), ['ZxBackup_RealTimeScanner', 'FALSE']]))
      assert.equal(realtime.status.state, 'disabled')
      await client.append('INBOX', message('carol while off'))
      await new Promise(resolve => {
        setTimeout(resolve, 1500)
      })
      assert.equal((await s.liveItems(carol)).length, 1, 'nothing is captured while switched off')
    })

    it('shows backup-realtime failing, with the reason, while the accounts command has never listed an account', async () => {
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', 'echo directory down >&2; exit 3')
      const realtime = await start()
      const status = await eventually('the command failure', async () => (realtime.status.detail.accountsCommandError ? realtime.status : undefined), CAPTURED_MS)
      assert.equal(status.state, 'failing')
      assert.match(String(status.detail.accountsCommandError), /directory down/)
    })

    it('logs how far the first capture of a large mailbox is while it runs', async () => {
      const hana = await s.user('hana')
      // Three batches of a cycle's 500 messages.
      await s.dovecot.loadMessages(hana, {INBOX: Array.from({length: 1200}, (_, i) => ({raw: message(`hana ${i}`)}))})
      await following({longCycleLogMs: 0}, async () => {
        await captured(hana, 'hana, all of it', items => items.length === 1200)
      })

      const told = lines.filter(line => line.startsWith(`backup-realtime: ${hana}: still capturing: `))
      assert.ok(told.length >= 2, lines.join('\n'))
      assert.match(told[0], /still capturing: [\d,]+ new, [\d.]+ MiB read so far, of 1,200 messages on the server$/)
    })

    it('shows backup-realtime failing while the accounts command lists no account, and daemon once fails', async () => {
      // Exit 0, no account: a directory that printed only a warning (or nothing) is no server without accounts.
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', 'echo "Warning: no such directory"')
      const realtime = await start()
      const status = await eventually('the empty list said', async () => (realtime.status.detail.accountsCommandError ? realtime.status : undefined), CAPTURED_MS)
      assert.equal(status.state, 'failing')
      assert.equal(status.detail.accountsCommandError, 'the accounts command listed no account: echo "Warning: no such directory" (check backupAccountsCommand)')
      await assert.rejects(imapCatchUpOnce({
        catalog: s.t.catalog, server: SERVER, settings: imapSettings(await serverConfig(s.t.catalog, SERVER)), signal: new AbortController().signal,
      }), {message: 'the accounts command listed no account: echo "Warning: no such directory" (check backupAccountsCommand)'})
    })

    it('says, while it waits, that the accounts command has not answered, without killing it', async () => {
      const alice = await s.user('alice')
      const command = `sleep 2; ${s.dovecot.directoryCommand(s.domain)}`
      await following({
        settings: {...await settingsNow(), accountsCommand: command},
        accountsSilentMs: 300,
      }, async realtime => {
        const error = await eventually('the silence said', async () => realtime.status.accountsCommandError, CAPTURED_MS)
        assert.equal(error, `the accounts command has not answered for 0.3 s: ${command}`)
        assert.deepEqual(lines, [`backup-realtime: ${error} (still waiting for it)`])
        // Left to answer: its accounts are followed, and the status no longer says it is silent.
        await captured(alice, 'alice, listed late', () => realtime.status.accountsFollowed === 1)
        assert.equal(realtime.status.accountsCommandError, undefined)
        // Among the lines after it: the push connections may report their mode before or after.
        assert.ok(lines.slice(1).some(line => /^backup-realtime: the accounts command answered after \d+(\.\d)? s/.test(line)), lines.join('\n'))
      })
    })

    it('re-reads the accounts command: a new account is followed', async () => {
      await s.user('dave')
      await following({
        accountsRefreshMs: 300,
      }, async realtime => {
        await eventually('dave followed', async () => (realtime.status.accountsFollowed === 1 ? true : undefined), CAPTURED_MS)
        const erin = await s.user('erin')
        await s.dovecot.loadMessages(erin, {INBOX: [{raw: message('erin one')}]})
        await captured(erin, 'erin, listed later', items => items.length === 1)
        assert.equal(realtime.status.accountsFollowed, 2)
      })
    })

    it('says which accounts a changed list no longer holds, and records none of them deleted', async () => {
      const [alice, bob] = [await s.user('alice'), await s.user('bob')]
      const list = path.join(s.t.home, 'accounts')
      writeFileSync(list, `${alice}\n${bob}\n`)
      await following({
        settings: {...await settingsNow(), accountsCommand: `cat ${list}`},
        accountsRefreshMs: 300,
      }, async realtime => {
        await eventually('both followed', async () => (realtime.status.cycles >= 2 ? true : undefined), CAPTURED_MS)
        // Exit 0 with plausible names: the accounts of another server.
        writeFileSync(list, 'x1@other.example\nx2@other.example\n')
        await eventually('the change said', async () => lines.find(line => line.includes('followed until now')), CAPTURED_MS)
      })

      const said = lines.filter(line => line.includes('followed until now'))
      assert.deepEqual(said, [`backup-realtime: the accounts command lists none of the 2 accounts followed until now (${alice}, ${bob}), `
        + 'only 2 others: is it reading the right directory? They are no longer followed, and nothing is recorded deleted'])
      assert.deepEqual(await s.t.catalog.db('accounts').whereNotNull('deleted_at').pluck('name'), [])
    })

    it('follows several accounts with a bounded pool, keeping their connections between no-change cycles', async () => {
      // More accounts than Node's default of 10 listeners per signal: each kept connection listens for the stop.
      const names = Array.from({length: 12}, (_, i) => `p${i + 1}`)
      const warnings: string[] = []
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
      process.on('warning', onWarning)
      const users = await Promise.all(names.map(name => s.user(name)))
      for (const user of users) await s.dovecot.loadMessages(user, {INBOX: [{raw: message(`hello ${user}`)}]})
      const commands = new Map<string, string[]>()
      // Every account, not only on average: with two cycles at a time some wait longer for their turn.
      const lists = (user: string) => (commands.get(user) ?? []).filter(command => command === 'LIST').length
      try {
        await following({
          concurrency: 2,
          intervalMs: 200,
          // Polling on its own: pushed accounts would be polled every 30 s only.
          pushConnections: 0,
          onCommand(account, command) {
            commands.set(account, [...commands.get(account) ?? [], command])
          },
        }, async () => {
          for (const user of users) await captured(user, user, items => items.length === 1)
          await eventually('more no-change cycles of every account', async () => (users.every(user => lists(user) >= 4) ? true : undefined), CAPTURED_MS)
        })
      } finally {
        process.off('warning', onWarning)
      }

      // An administrator reading "possible EventTarget memory leak" in the daemon's log would rightly worry.
      assert.deepEqual(warnings.filter(w => w.includes('MaxListeners')), [])
      for (const user of users) {
        const sent = commands.get(user) ?? []
        const logins = sent.filter(command => command === 'AUTHENTICATE' || command === 'LOGIN').length
        // One connection from the first cycle on: the folder that cycle read is unselected before the next listing.
        assert.equal(logins, 1, `${user}: ${sent.join(' ')}`)
        assert.ok(sent.filter(command => command === 'LIST').length >= 4, `${user}: ${sent.join(' ')}`)
      }
    })

    it('serves a pushed change before accounts still waiting for their turn', async () => {
      const alice = await s.user('alice')
      // The directory lists accounts the server cannot open (each login refused after Dovecot's failure delay): with one
      // cycle at a time, a change pushed for alice must not wait behind all of them.
      const ghosts = Array.from({length: 40}, (_, i) => `ghost${i}@${s.domain}`)
      await following({
        settings: {...await settingsNow(), accountsCommand: `echo ${alice}; echo ${ghosts.join(' ; echo ')}`},
        concurrency: 1,
      }, async realtime => {
        await eventually('alice pushed', async () => (realtime.status.push.connections >= 1 && realtime.status.cycles >= 1 ? true : undefined), CAPTURED_MS)
        const client = await s.client(alice)
        await client.append('INBOX', message('pushed while others wait'))
        await eventually('the pushed append captured', async () => ((await s.liveItems(alice)).length === 1 ? true : undefined), 10_000)
      })

      assert.ok(lines.some(line => line.includes(`${ghosts[0]}: `)), 'the accounts the server cannot open are named')
    })

    it('logs an account the server refuses once while it lasts, not at every retry', async () => {
      await s.user('gus')
      const ghost = `ghost@${s.domain}`
      await setAttribute(s.t.catalog, GLOBAL, 'backupAccountsCommand', `${s.dovecot.directoryCommand(s.domain)}; echo ${ghost}`)
      await start()
      // Retried after 1, 2 and 4 s: three failures at least.
      await new Promise(resolve => {
        setTimeout(resolve, 9000)
      })
      const said = lines.filter(line => line.includes(`${ghost}: `))
      assert.equal(said.length, 1, said.join('\n'))
      assert.match(said[0], /would not open .*; retrying with backoff/)
    })

    it('keeps no more push connections than its pool: the accounts beyond it are polled', async () => {
      const [first, second, third] = await Promise.all(['q1', 'q2', 'q3'].map(name => s.user(name)))
      await following({
        intervalMs: 300,
        pushConnections: 2,
      }, async realtime => {
        await eventually('two push connections', async () => (realtime.status.push.connections === 2 ? true : undefined), CAPTURED_MS)
        for (const user of [first, second, third]) {
          const client = await s.client(user)
          await client.append('INBOX', message(`pool ${user}`))
        }

        for (const user of [first, second, third]) await captured(user, user, items => items.length === 1)
        await eventually('still two push connections', async () => (realtime.status.push.connections === 2 ? true : undefined), CAPTURED_MS)
        assert.equal(realtime.status.push.mode, 'notify')
        assert.ok(realtime.status.push.received >= 2, JSON.stringify(realtime.status.push))
      })

      assert.ok(lines.some(line => /pushes changes of every folder \(NOTIFY\)/.test(line)), lines.join('\n'))
    })

    it('leaves an account to the operation that holds its scan lease, and follows it again once released', async () => {
      const gil = await s.user('gil')
      await s.dovecot.loadMessages(gil, {INBOX: [{raw: message('gil one')}]})
      await start()
      await captured(gil, 'gil', items => items.length === 1)
      const lease = await leaseAccountScan(s.t.catalog, gil)
      const client = await s.client(gil)
      await client.append('INBOX', message('gil while scanned'))
      await new Promise(resolve => {
        setTimeout(resolve, 2500)
      })
      assert.equal((await s.liveItems(gil)).length, 1, 'the capture waits for the scan holding the account')
      await lease.release()
      await captured(gil, 'the message once the lease is released', items => items.length === 2)
    })

    it('gives a busy account to a SmartScan of it: the scan completes while the capture goes on', async () => {
      const fay = await s.user('fay')
      await s.dovecot.loadMessages(fay, {INBOX: Array.from({length: 150}, (_, i) => ({raw: message(`fay ${i}`, `${i} `.repeat(4000))}))})
      await start()
      await captured(fay, 'fay', items => items.length === 150)

      // Another client changes the account without pause: the capture commits a cycle every few hundred ms.
      const client = await s.client(fay)
      const stop = new AbortController()
      let appended = 0
      const writer = (async () => {
        while (!stop.signal.aborted) {
          await client.append('INBOX', message(`busy ${appended++}`))
          await new Promise(resolve => {
            setTimeout(resolve, 40)
          })
        }
      })()
      try {
        await new Promise(resolve => {
          setTimeout(resolve, 500)
        })
        // A deep scan reads every message, in batches of two: long enough for many of the capture's cycles.
        const settings = imapSettings(await serverConfig(s.t.catalog, SERVER))
        const result = await scanAccount({
          catalog: s.t.catalog, server: SERVER, settings, account: fay, deep: true, batchSize: 2, signal: new AbortController().signal,
        })
        assert.ok(result.verified >= 150, JSON.stringify(result))
      } finally {
        stop.abort()
        await writer
      }

      // Nothing captured twice, nothing missed: one live item per message on the server.
      await captured(fay, 'every appended message', items => items.length === 150 + appended)
      const subjects = (await s.liveItems(fay)).map(item => JSON.stringify(item.metadata))
      assert.equal(new Set(subjects).size, subjects.length)
    })

    it('catches up after the server restarts', async () => {
      const bob = await s.user('bob')
      await s.dovecot.loadMessages(bob, {INBOX: [{raw: message('bob one')}]})
      const realtime = await start()
      await captured(bob, 'bob', items => items.length === 1)

      // A message delivered while the server is down (a file in the Maildir, as a local delivery agent writes it) is
      // there when it comes back; then another client appends one.
      await s.dovecot.restart(async () => {
        writeFileSync(path.join(s.dovecot.maildirOf(bob), 'cur', `${Math.floor(Date.now() / 1000)}.Mdown.carbonio-test:2,`), message('bob while down'))
      })
      const client = await s.client(bob)
      await client.append('INBOX', message('bob after restart'))
      await captured(bob, 'the messages of the downtime and after the restart', items => items.length === 3)
      // The connection kept from before the restart fails its next cycle (the account retries: 'works again'), or a
      // new one is refused while the server is down (every account waits: 'answers again'): either way it is said.
      assert.ok(lines.some(line => /retrying/.test(line)) && lines.some(line => /answers again|works again/.test(line)), lines.join('\n'))
      // The capture retries by itself: its log must not send the administrator to run a restore.
      assert.ok(!lines.some(line => /restore/.test(line)), lines.join('\n'))
      assert.equal(realtime.status.state, 'running')
      await realtime.stop()
      assert.equal(realtime.status.state, 'stopped')
    })
  })
}
