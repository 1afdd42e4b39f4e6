import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {rmSync, writeFileSync} from 'node:fs'
import {gzipSync} from 'node:zlib'

import type {ProgressEvent} from '../../../src/engine/progress.js'

import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {OperationAborted} from '../../../src/engine/errors.js'
import {BATCH_MESSAGES} from '../../../src/engine/restore/imap-restore-target.js'
import {restoreOnNewAccount} from '../../../src/engine/restore/restore-on-new-account.js'
import {previewRestore} from '../../../src/engine/restore/restore-preview.js'
import {markUncertain} from '../../../src/engine/scanner/account-certainty.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'
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

    /** The subjects of an account's INBOX in UID order: the order a client lists it in by arrival. */
    async function inboxOrder(address: string): Promise<string[]> {
      const client = await s.client(address)
      await client.mailboxOpen('INBOX', {readOnly: true})
      const order = []
      for await (const m of client.fetch('1:*', {uid: true, envelope: true}, {uid: true})) order.push(m.envelope!.subject!)
      return order
    }

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

    it('keeps the order a folder\'s messages arrived in (UID order) past the ninth message', async () => {
      // Appended in the order of their ids compared as text (/1, /10, /11, /2...), a restored folder of ten messages
      // or more came back shuffled for every client that lists it in the order received.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      const subjects = Array.from({length: 12}, (_, i) => `arrival ${i + 1}`)
      for (const subject of subjects) await client.append('INBOX', message(subject))
      await s.scan()
      const bob = await s.user('bob')
      await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.deepEqual(await inboxOrder(bob), subjects)
    })

    it('puts a message moved into a folder where it arrived there, not where its first folder would sort it', async () => {
      // A moved message keeps its id, named after the folder it was first seen in: ordered by ids, it left its place.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      await client.mailboxCreate('Elsewhere')
      await client.append('Elsewhere', message('moved in'))
      await client.append('INBOX', message('first'))
      await s.scan()
      await client.mailboxOpen('Elsewhere')
      await client.messageMove('1:*', 'INBOX')
      await client.mailboxClose()
      await client.append('INBOX', message('last'))
      await s.scan()
      const bob = await s.user('bob')
      await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.deepEqual(await inboxOrder(bob), ['first', 'moved in', 'last'])
    })

    it('restores into folders whose names modified UTF-7 must encode ("&", non-ASCII)', async () => {
      // An ASCII name with "&" went out raw in a MULTIAPPEND: Dovecot refused it as not valid mUTF-7 and the restore
      // failed with the folder created and empty.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      for (const folder of ['Clients & Co', 'Clients & Co/\u00C9t\u00E9 2024']) {
        await client.mailboxCreate(folder)
        await client.append(folder, message(`in ${folder}`), [String.raw`\Flagged`], JAN)
        await client.append(folder, message(`second in ${folder}`), [], JAN)
      }

      const before = await snapshot(client)
      await s.scan()
      const bob = await s.user('bob')
      const report = await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(report.restored, 4)
      assert.deepEqual(await snapshot(await s.client(bob)), before)
    })

    it('restores the other folders when the destination refuses one folder name, listing that folder\'s messages', async () => {
      // A folder named as Carbonio allows ("v1.2") restored into a Maildir++ Dovecot, which allows no "." in a name:
      // the whole restore failed at that folder, the ones after it left out.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      for (const folder of ['Projects', 'Zebra']) {
        await client.mailboxCreate(folder)
        await client.append(folder, message(`in ${folder}`), [], JAN)
      }

      await client.append('INBOX', message('in the inbox'), [], JAN)
      await s.scan()
      // As a redolog-fed backup of a Carbonio would have it.
      await s.t.catalog.db('folder_revisions').where('path', '/Projects').update({path: '/v1.2'})
      const bob = await s.user('bob')
      const report = await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(report.restored, 2)
      assert.equal(report.unrestored, 1)
      const {folders} = await snapshot(await s.client(bob))
      assert.deepEqual(folders, ['INBOX', 'Zebra'])
    })

    it('never takes a live message that only shares a Message-ID and size for the one it restores (forced merge, preview)', async () => {
      // A draft saved twice keeps its Message-ID; one letter changed keeps its size. A restore that took the live
      // one for the backup's would skip the backup's: that content would be restored nowhere.
      const alice = await s.user('alice')
      const bob = await s.user('bob')
      const saved = message('Draft', 'Meet at nine.')
      const live = message('Draft', 'Meet at five.')
      assert.equal(saved.length, live.length)
      await (await s.client(alice)).append('INBOX', saved, [], JAN)
      await s.scan()
      await (await s.client(bob)).append('INBOX', live, [], JAN)

      const before = await previewRestore(s.t.catalog, SERVER, {account: alice, point: {kind: 'last'}, destination: bob})
      assert.deepEqual({add: before.add.messages.length, liveOnly: before.liveOnly.messages.length, unchanged: before.unchanged}, {add: 1, liveOnly: 1, unchanged: 0})

      const report = await restore(s, [], {
        source: alice, destination: bob, point: {kind: 'last'}, force: true,
      })
      assert.deepEqual({restored: report.restored, skipped: report.skipped}, {restored: 1, skipped: 0})
      const inbox = (await snapshot(await s.client(bob))).messages.map(m => m.split(' ')[1]).sort()
      assert.deepEqual(inbox, [sha(saved), sha(live)].sort())

      // Once there, it is recognised by its content: a rerun adds nothing, and the preview shows it unchanged.
      const again = await restore(s, [], {
        source: alice, destination: bob, point: {kind: 'last'}, force: true,
      })
      assert.deepEqual({restored: again.restored, skipped: again.skipped}, {restored: 0, skipped: 1})
      const after = await previewRestore(s.t.catalog, SERVER, {account: alice, point: {kind: 'last'}, destination: bob})
      assert.deepEqual({add: after.add.messages.length, liveOnly: after.liveOnly.messages.length, unchanged: after.unchanged}, {add: 0, liveOnly: 1, unchanged: 1})
    })

    it('recognises on a rerun the messages the server rewrote on APPEND (bare CR or LF, NUL), never taking a different one', async () => {
      // Written into the store by another program, Dovecot serves these bytes as they are; on APPEND it stores "\r\r\n"
      // as "\r\n", "\n" as "\r\n" and NUL as 0x80, so their restored copies have another digest and size.
      const alice = await s.user('alice')
      const rewritten = [
        Buffer.from('Message-ID: <cr@example.com>\r\nSubject: cr\r\n\r\nline\r\r\nend\r\n'),
        Buffer.from('Message-ID: <lf@example.com>\nSubject: lf\n\nline\nend\n'),
        Buffer.from('Message-ID: <nul@example.com>\r\nSubject: nul\r\n\r\nli\u0000ne\r\n'),
        Buffer.from('Subject: no id\r\n\r\nline\r\r\nend\r\n'),
      ]
      // The same Message-ID as the first, with other words: a rerun must not take the rewritten one for it.
      const other = Buffer.from('Message-ID: <cr@example.com>\r\nSubject: cr\r\n\r\nother\r\r\nend\r\n')
      await s.dovecot.loadMessages(alice, {INBOX: [...rewritten, other].map(raw => ({raw, internalDate: JAN}))})
      await s.scan()
      const bob = await s.user('bob')
      const first = await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(first.restored, 5)
      for (let run = 0; run < 2; run++) {
        const again = await restore(s, [], {
          source: alice, destination: bob, point: {kind: 'last'}, force: true,
        })
        assert.deepEqual({restored: again.restored, skipped: again.skipped}, {restored: 0, skipped: 5}, `rerun ${run + 1}`)
      }

      assert.equal((await snapshot(await s.client(bob))).messages.length, 5)
      // The preview pairs them as the restore does: nothing to add, no live-only copy.
      const preview = await previewRestore(s.t.catalog, SERVER, {account: alice, point: {kind: 'last'}, destination: bob})
      assert.deepEqual({add: preview.add.messages.length, liveOnly: preview.liveOnly.messages.length, unchanged: preview.unchanged}, {add: 0, liveOnly: 0, unchanged: 5})
    })

    it('previews a large message by the digest of its pieces, as the capture stored it', async () => {
      const alice = await s.user('alice')
      const large = message('large', randomBytes(4_500_000).toString('base64').replaceAll(/.{76}/g, '$&\r\n'))
      await (await s.client(alice)).append('INBOX', large, [], JAN)
      await s.scan()
      const preview = await previewRestore(s.t.catalog, SERVER, {account: alice, point: {kind: 'last'}})
      assert.deepEqual({add: preview.add.messages.length, liveOnly: preview.liveOnly.messages.length, unchanged: preview.unchanged}, {add: 0, liveOnly: 0, unchanged: 1})
    })

    it('restores folders of several MULTIAPPEND groups exactly, and a restore stopped half-way completes on a rerun without duplicates', async () => {
      const alice = await s.user('alice')
      const flags = [[], [String.raw`\Seen`], [String.raw`\Seen`, String.raw`\Flagged`], [String.raw`\Answered`]]
      const load = (folder: string, count: number) => Array.from({length: count}, (_, i) => ({
        raw: message(`${folder} ${i}`, `${folder} body ${i} `.repeat(1 + ((i % 7) * 300))),
        flags: flags[i % flags.length],
        internalDate: new Date(JAN.getTime() + (i * 60_000)),
      }))
      await s.dovecot.loadMessages(alice, {
        INBOX: load('inbox', (BATCH_MESSAGES * 2) + 17), 'Archive/2024': load('archive', BATCH_MESSAGES + 1), Sent: load('sent', 3), Empty: [],
      })
      // Two copies of one message stay two.
      const source = await s.client(alice)
      await source.append('Sent', message('sent 0', 'sent body 0 '), [], JAN)
      await s.scan()
      const expected = await snapshot(source)
      const bob = await s.user('bob')

      // Stopped once the first folder is done: the folders after it are not there yet.
      const stop = new AbortController()
      const events: ProgressEvent[] = []
      await assert.rejects(restoreOnNewAccount({
        catalog: s.t.catalog,
        uuid: 'test',
        server: SERVER,
        signal: stop.signal,
        progress(event) {
          events.push(event)
          if (event.kind === 'step' && event.message.includes(' restored, ')) stop.abort()
        },
      }, {source: alice, destination: bob, point: {kind: 'last'}}), OperationAborted)
      const partial = await snapshot(await s.client(bob))
      assert.ok(partial.messages.length > 0 && partial.messages.length < expected.messages.length, `${partial.messages.length} of ${expected.messages.length}`)

      const rerun = await restore(s, [], {
        source: alice, destination: bob, point: {kind: 'last'}, force: true,
      })
      assert.equal(rerun.restored + rerun.skipped, expected.messages.length)
      assert.equal(rerun.skipped, partial.messages.length)
      assert.deepEqual(await snapshot(await s.client(bob)), expected)
    })

    it('reads a blob missing from the store from the AppServer, and names one corrupt there and gone from the server', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const store = new BlobStore(s.t.home)
      rmSync(store.pathOf(sha(message('inbox one'))))
      writeFileSync(store.pathOf(sha(message('old one'))), gzipSync('not the message'))
      const client = await s.client(alice)
      const expected = await snapshot(client)
      await client.mailboxOpen('Archive/2024')
      await client.messageDelete('1:*')
      await client.mailboxClose()
      const bob = await s.user('bob')
      const report = await restore(s, [], {source: alice, destination: bob, point: {kind: 'last'}})
      assert.equal(report.restored, 5)
      assert.equal(report.unrestored, 1)
      assert.match(report.unrestoredItems[0].reason, /is corrupt.*and the AppServer no longer has it/)
      assert.equal(report.unrestoredItems[0].folderPath, '/Archive/2024')
      const digest = sha(message('old one'))
      assert.deepEqual((await snapshot(await s.client(bob))).messages, expected.messages.filter(line => !line.includes(digest)))
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
