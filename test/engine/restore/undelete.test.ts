import assert from 'node:assert/strict'

import type {ProgressEvent} from '../../../src/engine/progress.js'

import {BATCH_MESSAGES, ImapRestoreTarget} from '../../../src/engine/restore/imap-restore-target.js'
import {undelete, type UndeleteRequest} from '../../../src/engine/restore/undelete.js'
import {markUncertain} from '../../../src/engine/scanner/account-certainty.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'
import {
  JAN, loadAlice, sha, type Snapshot, snapshot,
} from './restore-scenario.js'

const pause = (ms: number) => new Promise(resolve => {
  setTimeout(resolve, ms)
})

/** A snapshot line of INBOX or Archive/2024 as it reads under the Undeleted folder of 2026-01-20. */
const underUndeleted = (line: string) => line.replace(/^(INBOX|Archive\/2024) /, 'Undeleted 2026-01-20/$1 ')
const NEXT_DAY = Date.parse('2026-01-21T09:00:00.000Z')

for (const dialect of DIALECTS) {
  describe(`doUndelete against Dovecot (${dialect})`, () => {
    let s: Scenario

    beforeEach(async () => {
      s = await imapScenario(dialect)
    })

    afterEach(async () => {
      await s.cleanup()
    })

    const run = (request: UndeleteRequest, events: ProgressEvent[] = []) => undelete({
      catalog: s.t.catalog, uuid: 'test', server: SERVER, signal: new AbortController().signal, progress: event => events.push(event),
    }, request)

    /**
     * Alice's mailbox (restore-scenario's), scanned; "inbox one" deleted before the window opens. In the window, with
     * a scan after each step as a realtime capture would: "inbox two" expunged, "inbox three" moved to the Trash and
     * expunged there, the folder Archive/2024 deleted with its two messages, and the draft deleted then appended again
     * by the client (so the mailbox has it again). Returns the window's start and what the mailbox held before it.
     */
    async function deleteInWindow(alice: string): Promise<{before: Snapshot; start: number}> {
      const client = await s.client(alice)
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1', {uid: true})
      await client.mailboxClose()
      await s.scan()
      const before = await snapshot(client)
      await pause(20)
      const start = Date.now()
      await pause(20)
      await client.mailboxCreate('Trash')
      await client.mailboxOpen('INBOX')
      await client.messageDelete('2', {uid: true})
      await client.messageMove('3', 'Trash', {uid: true})
      await client.mailboxClose()
      await s.scan()
      await client.mailboxOpen('Trash')
      await client.messageDelete('1:*', {uid: true})
      await client.mailboxClose()
      await client.mailboxDelete('Archive/2024')
      await client.mailboxOpen('Entwürfe')
      await client.messageDelete('1:*', {uid: true})
      await client.mailboxClose()
      await s.scan()
      await client.append('Entwürfe', message('draft', 'Grüße'), [String.raw`\Draft`, '$Label1'], JAN)
      await s.scan()
      return {before, start}
    }

    it('brings the messages deleted in a window back into their original folders, once', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const {before, start} = await deleteInWindow(alice)
      const events: ProgressEvent[] = []
      const report = await run({account: alice, window: {from: start, to: null}}, events)
      assert.equal(report.deleted, 5, JSON.stringify(events))
      assert.equal(report.restored, 4)
      assert.equal(report.skipped, 1)
      assert.equal(report.unrestored, 0)
      assert.equal(report.undeletedFolder, null)
      assert.equal(report.smartScanFirst, false)
      const client = await s.client(alice)
      const after = await snapshot(client)
      assert.deepEqual(after.messages, before.messages)
      assert.deepEqual(after.folders, [...before.folders, 'Trash'].sort())

      const again = await run({account: alice, window: {from: start, to: null}})
      assert.equal(again.restored, 0)
      assert.equal(again.skipped, 5)
      assert.deepEqual(await snapshot(client), after)
    })

    it('brings back an emptied folder of ten messages or more in the order they arrived (UID order)', async () => {
      // Put back in the order of their ids compared as text (/1, /10, /11, /2...), they came back shuffled.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      const subjects = Array.from({length: 12}, (_, i) => `arrival ${i + 1}`)
      for (const subject of subjects) await client.append('INBOX', message(subject))
      await s.scan()
      const start = Date.now()
      await pause(20)
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1:*', {uid: true})
      await client.mailboxClose()
      await s.scan()
      assert.equal((await run({account: alice, window: {from: start, to: null}})).restored, 12)
      await client.mailboxOpen('INBOX', {readOnly: true})
      const order = []
      for await (const m of client.fetch('1:*', {uid: true, envelope: true}, {uid: true})) order.push(m.envelope!.subject)
      assert.deepEqual(order, subjects)
    })

    it('brings back a deleted draft whose next save, still there, only shares its Message-ID and size', async () => {
      const alice = await s.user('alice')
      const client = await s.client(alice)
      const saved = message('Draft', 'Meet at nine.')
      const resaved = message('Draft', 'Meet at five.')
      await client.append('INBOX', saved, [String.raw`\Draft`], JAN)
      await s.scan()
      await pause(20)
      const start = Date.now()
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1:*', {uid: true})
      await client.mailboxClose()
      await client.append('INBOX', resaved, [String.raw`\Draft`], JAN)
      await s.scan()

      const report = await run({account: alice, window: {from: start, to: null}})
      assert.deepEqual({deleted: report.deleted, restored: report.restored, skipped: report.skipped}, {deleted: 1, restored: 1, skipped: 0})
      const inbox = (await snapshot(client)).messages.map(m => m.split(' ')[1]).sort()
      assert.deepEqual(inbox, [sha(saved), sha(resaved)].sort())
    })

    it('brings a message back into its folder renamed since, while a new folder took the old name', async () => {
      // A user archiving "Projects" as "Projects 2025" and starting a new "Projects" between two scans: the new mailbox
      // was taken for the old folder (same path, new UIDVALIDITY), and the message went into it.
      const alice = await s.user('alice')
      const client = await s.client(alice)
      await client.mailboxCreate('Projects')
      for (const subject of ['kept', 'gone']) await client.append('Projects', message(subject), [], JAN)
      await s.scan()
      const start = Date.now()
      await pause(20)
      await client.mailboxOpen('Projects')
      await client.messageDelete('2', {uid: true})
      await client.mailboxClose()
      await s.scan()
      await client.mailboxRename('Projects', 'Projects 2025')
      await client.mailboxCreate('Projects')
      await client.append('Projects', message('new'), [], JAN)
      await s.scan()

      assert.equal((await run({account: alice, window: {from: start, to: null}})).restored, 1)
      // "<folder> <digest> [flags] <date>", the folder's name holding a space.
      const inFolders = (await snapshot(client)).messages.map(m => m.split(' ').slice(0, -2).join(' ')).sort()
      assert.deepEqual(inFolders, [
        `Projects ${sha(message('new'))}`, `Projects 2025 ${sha(message('gone'))}`, `Projects 2025 ${sha(message('kept'))}`,
      ].sort())
    })

    for (const madeAgain of ['empty', 'with other mail'] as const) {
      it(`brings the mail of a folder deleted and made again ${madeAgain} between two scans back under its name, not into the new one`, async () => {
        // The new mailbox at the old path (another UIDVALIDITY) was taken for the old folder: the deleted mail went into
        // it, and after the user renamed it, into "Later" (FOLDER_TREE_SEEDS=73).
        const alice = await s.user('alice')
        const client = await s.client(alice)
        await client.mailboxCreate('Projects')
        await client.append('Projects', message('deleted with its folder'), [], JAN)
        await s.scan()
        const start = Date.now()
        await pause(20)
        await client.mailboxDelete('Projects')
        await client.mailboxCreate('Projects')
        if (madeAgain === 'with other mail') await client.append('Projects', message('new'), [], JAN)
        await s.scan()
        await client.mailboxRename('Projects', 'Later')
        if (madeAgain === 'empty') await client.append('Later', message('new'), [], JAN)
        await s.scan()

        assert.equal((await run({account: alice, window: {from: start, to: null}})).restored, 1)
        const inFolders = (await snapshot(client)).messages.map(m => m.split(' ').slice(0, -2).join(' ')).sort()
        assert.deepEqual(inFolders, [`Later ${sha(message('new'))}`, `Projects ${sha(message('deleted with its folder'))}`].sort())
      })
    }

    it('brings back a folder of many deleted messages in MULTIAPPEND batches, not one APPEND each', async () => {
      // A wide window of 8,000 deletions took 90 s, one APPEND round trip per message, where a restore of 20,000
      // messages, in batches, took 24 s.
      const alice = await s.user('alice')
      const count = BATCH_MESSAGES + 20
      await s.dovecot.loadMessages(alice, {
        INBOX: Array.from({length: count}, (_, i) => ({raw: message(`batch ${i}`), internalDate: new Date(JAN.getTime() + (i * 60_000))})),
      })
      await s.scan()
      const start = Date.now()
      await pause(20)
      const client = await s.client(alice)
      const before = await snapshot(client)
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1:*', {uid: true})
      await client.mailboxClose()
      await s.scan()

      const {appendMany} = ImapRestoreTarget.prototype
      let commands = 0
      ImapRestoreTarget.prototype.appendMany = function (this: ImapRestoreTarget, ...args: Parameters<typeof appendMany>) {
        commands++
        return appendMany.apply(this, args)
      }

      try {
        assert.equal((await run({account: alice, window: {from: start, to: null}})).restored, count)
      } finally {
        ImapRestoreTarget.prototype.appendMany = appendMany
      }

      assert.equal(commands, 2)
      assert.deepEqual(await snapshot(client), before)
    })

    it('brings a message undeleted and deleted again back once, not once per life', async () => {
      const alice = await s.user('alice')
      const client = await s.client(alice)
      const kept = message('Kept', 'Twice deleted.')
      await client.append('INBOX', kept, [String.raw`\Seen`], JAN)
      await s.scan()
      const expunge = async () => {
        await client.mailboxOpen('INBOX')
        await client.messageDelete('1:*', {uid: true})
        await client.mailboxClose()
        await s.scan()
      }

      // Deleted, brought back (IMAP gives it a new UID, but its content is that of the item deleted a moment ago: the
      // scan takes it for that item again, LateMoves), deleted again by the user: one item, two deletions. Counted as
      // two deletions, the earlier life skipped, as when the capture took it for a new item (later-lives.ts).
      await expunge()
      assert.equal((await run({account: alice, window: {from: null, to: null}})).restored, 1)
      await s.scan()
      await expunge()

      const report = await run({account: alice, window: {from: null, to: null}})
      assert.deepEqual({deleted: report.deleted, restored: report.restored, skipped: report.skipped}, {deleted: 2, restored: 1, skipped: 1})
      assert.deepEqual((await snapshot(client)).messages.map(m => m.split(' ')[1]), [sha(kept)])
    })

    it('brings them back under an "Undeleted <day>" folder keeping the structure, and never twice', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const {before, start} = await deleteInWindow(alice)
      const now = Date.parse('2026-01-20T12:00:00.000Z')
      const report = await run({
        account: alice, window: {from: start, to: Date.now()}, targetOriginalFolder: false, now,
      })
      assert.equal(report.undeletedFolder, '/Undeleted 2026-01-20')
      assert.equal(report.restored, 4)
      assert.equal(report.skipped, 1)
      const client = await s.client(alice)
      const after = await snapshot(client)
      const expected = before.messages.filter(line => !line.startsWith('Entwürfe ')).map(line => underUndeleted(line))
      assert.deepEqual(after.messages, [...expected, ...before.messages.filter(line => line.startsWith('Entwürfe '))].sort())
      assert.ok(after.folders.includes('Undeleted 2026-01-20/Archive/2024'), after.folders.join(', '))
      assert.ok(!after.folders.includes('Archive/2024'))

      // Another day, or into the original folders: what an earlier undelete brought back is not brought again.
      const nextDay = await run({
        account: alice, window: {from: start, to: null}, targetOriginalFolder: false, now: NEXT_DAY,
      })
      assert.equal(nextDay.restored, 0)
      assert.equal(nextDay.skipped, 5)
      const original = await run({account: alice, window: {from: start, to: null}})
      assert.equal(original.restored, 0)
      assert.deepEqual(await snapshot(client), after)
    })

    it('leaves out deletions outside the window, and scans an uncertain account first', async () => {
      const alice = await loadAlice(s)
      await s.scan()
      const client = await s.client(alice)
      const before = await snapshot(client)
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1', {uid: true})
      await client.mailboxClose()
      await s.scan()
      await pause(20)
      const start = Date.now()
      await pause(20)
      // Not scanned: only the SmartScan that the uncertain account gets first records this deletion.
      await client.mailboxOpen('INBOX')
      await client.messageDelete('2', {uid: true})
      await client.mailboxClose()
      const [account] = await s.t.catalog.db('accounts').where({name: alice}).select('id')
      await markUncertain(s.t.catalog.db, [Number(account.id)], 'empty folder')
      const events: ProgressEvent[] = []
      const report = await run({account: alice, window: {from: start, to: null}}, events)
      assert.equal(report.uncertain, true)
      assert.equal(report.smartScanFirst, true)
      assert.ok(events.some(e => e.kind === 'step' && e.message === 'running an account SmartScan first'))
      assert.equal(report.restored, 1)
      const after = await snapshot(client)
      const inboxOne = sha(message('inbox one'))
      assert.deepEqual(after.messages, before.messages.filter(line => !line.includes(inboxOne)))

      const none = await run({account: alice, window: {from: start - 10_000, to: start - 5000}})
      assert.equal(none.deleted, 0)
      assert.equal(none.restored, 0)
    })
  })
}
