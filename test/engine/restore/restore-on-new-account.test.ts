import assert from 'node:assert/strict'

import type {ProgressEvent} from '../../../src/engine/progress.js'

import {setAttribute} from '../../../src/engine/config/config-store.js'
import {markUncertain} from '../../../src/engine/scanner/account-certainty.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {imapScenario, message, type Scenario} from '../smartscan/imap-scenario.js'
import {
  JAN, loadAlice, restore, sha, type Snapshot, snapshot,
} from './restore-scenario.js'

const pause = (ms: number) => new Promise(resolve => {
  setTimeout(resolve, ms)
})

for (const dialect of DIALECTS) {
  describe(`doRestoreOnNewAccount against Dovecot (${dialect})`, () => {
    let s: Scenario

    beforeEach(async () => {
      s = await imapScenario(dialect)
    })

    afterEach(async () => {
      await s.cleanup()
    })

    async function changeAfterScan(address: string): Promise<{at: number; before: Snapshot}> {
      const client = await s.client(address)
      const before = await snapshot(client)
      await pause(20)
      const at = Date.now()
      await pause(20)
      await client.mailboxOpen('INBOX')
      await client.messageFlagsAdd('1', [String.raw`\Flagged`, 'urgent'], {uid: true})
      await client.messageDelete('2', {uid: true})
      await client.mailboxClose()
      await s.scan()
      return {at, before}
    }

    it('gives a new account the folders and byte-identical messages of a past moment, once', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const {at, before} = await changeAfterScan(alice)
      const bob = await s.user('bob')
      const events: ProgressEvent[] = []
      const report = await restore(s, events, {source: alice, destination: bob, point: {kind: 'at', at}})
      assert.equal(report.restored, 6)
      assert.equal(report.skipped, 0)
      assert.equal(report.unrestored, 0)
      assert.ok(events.some(e => e.kind === 'step' && e.message.startsWith('/Archive/2024: 2 restored')))
      const after = await snapshot(await s.client(bob))
      assert.deepEqual(after, before)

      await assert.rejects(restore(s, [], {source: alice, destination: bob, point: {kind: 'at', at}}), /is not empty \(6 messages\).*force true/)
      const again = await restore(s, [], {
        source: alice, destination: bob, point: {kind: 'at', at}, force: true,
      })
      assert.equal(again.restored, 0)
      assert.equal(again.skipped, 6)
      assert.deepEqual(await snapshot(await s.client(bob)), before)
    })

    it('scans an uncertain source first and says so', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const client = await s.client(alice)
      await client.append('INBOX', message('unseen by the backup'), [], JAN)
      const [account] = await s.t.catalog.db('accounts').where({name: alice}).select('id')
      await markUncertain(s.t.catalog.db, [Number(account.id)], 'empty folder')
      const bob = await s.user('bob')
      const events: ProgressEvent[] = []
      const report = await restore(s, events, {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(report.uncertain, true)
      assert.equal(report.smartScanFirst, true)
      assert.equal(report.restored, 7)
      assert.ok(events.some(e => e.kind === 'warning' && e.message === `${alice} is uncertain (empty folder)`), JSON.stringify(events))
      assert.ok(events.some(e => e.kind === 'step' && e.message === 'running an account SmartScan first'))
      assert.deepEqual(await snapshot(await s.client(bob)), await snapshot(client))
    })

    it('reads the content from the AppServer in blobless mode', async () => {
      await setAttribute(s.t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const alice = await loadAlice(s)
      await s.scan()
      const stored = await s.t.catalog.db('blobs').where('stored', true).count({n: '*'})
      assert.equal(Number(stored[0].n), 0)
      const {at, before} = await changeAfterScan(alice)
      const bob = await s.user('bob')
      const report = await restore(s, [], {source: alice, destination: bob, point: {kind: 'at', at}})
      // The message deleted after that moment is gone from the server too: named, not restored.
      assert.equal(report.restored, 5)
      assert.equal(report.unrestored, 1)
      assert.match(report.unrestoredItems[0].reason, /blobless.*gone from the AppServer/)
      const after = await snapshot(await s.client(bob))
      assert.deepEqual(after.folders, before.folders)
      assert.deepEqual(after.messages, before.messages.filter(line => !line.includes(sha(message('inbox two')))))
    })

    it('in blobless mode lists as unrestored what a source account gone from the server held', async () => {
      await setAttribute(s.t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const alice = await loadAlice(s)
      await s.scan()
      await s.dovecot.removeUser(alice)
      const bob = await s.user('bob')
      const report = await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(report.restored, 0)
      assert.equal(report.unrestored, 6)
      assert.deepEqual((await snapshot(await s.client(bob))).messages, [])
    })
  })
}
