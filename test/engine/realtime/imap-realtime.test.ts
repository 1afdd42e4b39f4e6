import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {serverConfig} from '../../../src/engine/config/config-store.js'
import {RealtimeService} from '../../../src/engine/daemon/realtime-service.js'
import {eventually} from '../../helpers/run-cli.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, type LiveItem, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'

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

    it('catches up after the server restarts', async () => {
      const bob = await s.user('bob')
      await s.dovecot.loadMessages(bob, {INBOX: [{raw: message('bob one')}]})
      const realtime = await start()
      await captured(bob, 'bob', items => items.length === 1)

      await s.dovecot.restart()
      // Changes after the restart, by a new client, are captured once the service has reconnected.
      const client = await s.client(bob)
      await client.append('INBOX', message('bob after restart'))
      await captured(bob, 'the message appended after the restart', items => items.length === 2)
      assert.ok(lines.some(line => /retrying/.test(line)), lines.join('\n'))
      assert.equal(realtime.status.state, 'running')
      await realtime.stop()
      assert.equal(realtime.status.state, 'stopped')
    })
  })
}
