import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {
  readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {imapSettings} from '../../../src/engine/appserver/imap/imap-settings.js'
import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {serverConfig, setAttribute} from '../../../src/engine/config/config-store.js'
import {OperationAborted} from '../../../src/engine/errors.js'
import {scanAccount, type Serialize, writeQueue} from '../../../src/engine/smartscan/account-scan.js'
import {FIRST_CAPTURE_UNFINISHED} from '../../../src/engine/smartscan/imap-account-feed.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, JAN, loadAlice, mailboxCommands, message, type Scenario, SERVER,
} from './imap-scenario.js'

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** Every message file of a user's Maildir (all folders), by the sha256 of its bytes. */
function maildirFiles(scenario: Scenario, address: string): Map<string, Buffer> {
  const root = scenario.dovecot.maildirOf(address)
  const files = new Map<string, Buffer>()
  const boxes = [root, ...readdirSync(root).filter(name => name.startsWith('.')).map(name => path.join(root, name))]
  for (const box of boxes) {
    for (const sub of ['cur', 'new']) {
      let names: string[] = []
      try {
        names = readdirSync(path.join(box, sub))
      } catch {
        continue
      }

      for (const name of names) {
        const bytes = readFileSync(path.join(box, sub, name))
        files.set(sha(bytes), bytes)
      }
    }
  }

  return files
}

for (const dialect of DIALECTS) {
  describe(`SmartScan against Dovecot (${dialect})`, () => {
    let s: Scenario

    beforeEach(async () => {
      s = await imapScenario(dialect)
    })

    afterEach(async () => {
      await s.cleanup()
    })

    const alice = () => loadAlice(s)

    it('captures every folder and message with the exact bytes, flags, keywords and internal date', async () => {
      const address = await alice()
      const report = await s.scan()
      assert.deepEqual(report.failed, [])
      assert.equal(report.scanned, 1)
      assert.deepEqual(report.domains, [s.domain])
      assert.equal(report.totals.created, 6)
      assert.equal(report.totals.foldersCreated, 3)

      const items = await s.liveItems(address)
      assert.deepEqual(items.map(i => i.path), ['/Archive/2024', '/Archive/2024', '/Entwürfe', '/INBOX', '/INBOX', '/INBOX'])
      // Byte for byte what Dovecot serves: the Maildir files it was loaded from, and what another client fetches.
      const files = maildirFiles(s, address)
      const client = await s.client(address)
      for (const item of items) {
        const stored = await s.blob(item.digest!)
        assert.equal(sha(stored), item.digest)
        if (item.path !== '/Entwürfe') assert.ok(files.get(item.digest!)?.equals(stored), `${item.id} differs from its Maildir file`)
        const lock = await client.getMailboxLock(item.path.slice(1), {readOnly: true})
        try {
          const uid = Number(item.locator!.split('/').at(-1))
          const fetched = await client.fetchOne(String(uid), {source: true}, {uid: true})
          assert.ok(fetched && fetched.source!.equals(stored), `${item.id} differs from BODY[]`)
        } finally {
          lock.release()
        }
      }

      const draft = items.find(i => i.path === '/Entwürfe')!
      assert.deepEqual((await s.blob(draft.digest!)).toString('utf8'), message('draft', 'Grüße').toString('utf8'))
      assert.deepEqual(draft.flags, ['$Label1', String.raw`\Draft`])
      assert.equal(draft.metadata.subject, 'draft')
      assert.equal(draft.metadata.internalDate, JAN.toISOString())
      assert.deepEqual(items.filter(i => i.path === '/INBOX').map(i => i.flags), [[], [String.raw`\Seen`], [String.raw`\Answered`, String.raw`\Seen`]])

      const [state] = await s.t.catalog.db('account_state as st').join('accounts as a', 'a.id', 'st.account_id').where('a.name', address).select('st.certain', 'st.last_scan_at')
      assert.equal(Boolean(state.certain), true)
      assert.ok(Number(state.last_scan_at) > 0)
      const domain = await s.t.catalog.db('domains').where({name: s.domain}).first()
      assert.ok(domain, 'the domain is recorded')
    })

    it('records exactly a flag change, a new message, expunges and a new folder on the next scan', async () => {
      const address = await alice()
      await s.scan()
      const before = await s.liveItems(address)
      const client = await s.client(address)
      let lock = await client.getMailboxLock('INBOX')
      const inboxUids = (await client.search({all: true}, {uid: true})) as number[]
      await client.messageFlagsAdd(String(inboxUids[0]), [String.raw`\Flagged`, 'Work'], {uid: true})
      await client.messageDelete(String(inboxUids[1]), {uid: true})
      lock.release()
      lock = await client.getMailboxLock('Archive/2024')
      await client.messageDelete('1:*', {uid: true})
      lock.release()
      await client.append('INBOX', message('inbox four'))
      await client.mailboxCreate('Projects')
      await client.append('Projects', message('plan'), [String.raw`\Seen`])

      const report = await s.scan()
      assert.deepEqual(report.totals, {
        ...report.totals, created: 2, flagsChanged: 1, deleted: 3, moved: 0, foldersCreated: 1, foldersRenamed: 0, foldersDeleted: 0,
      })
      // Expunges came from VANISHED (an emptied mailbox included), not from reading whole folders again.
      assert.equal(report.perAccount[0].fullRereads, 0)
      assert.equal(report.perAccount[0].listed, 3)
      // Each folder read is selected once: the new message of INBOX came with its changes, not in a second selection.
      const examined = mailboxCommands(s.commands.get(address)).filter(c => c === 'EXAMINE').length
      assert.equal(examined, report.perAccount[0].foldersRead, mailboxCommands(s.commands.get(address)).join(' '))
      const after = await s.liveItems(address)
      assert.deepEqual(after.map(i => `${i.path} ${i.metadata.subject} ${i.flags.join(' ')}`).sort(), [
        String.raw`/Entwürfe draft $Label1 \Draft`,
        '/INBOX inbox four ',
        String.raw`/INBOX inbox one Work \Flagged`,
        String.raw`/INBOX inbox three \Answered \Seen`,
        String.raw`/Projects plan \Seen`,
      ])
      const flagged = after.find(i => i.metadata.subject === 'inbox one')!
      assert.deepEqual((await s.revisions(address, flagged.id)).map(r => r.operation), ['item.created', 'item.flags'])
      const expunged = before.find(i => i.metadata.subject === 'inbox two')!
      assert.deepEqual((await s.revisions(address, expunged.id)).map(r => [r.operation, r.deleted]), [['item.created', false], ['item.deleted', true]])
      // Untouched items got no new revision.
      const untouched = after.find(i => i.metadata.subject === 'inbox three')!
      assert.equal((await s.revisions(address, untouched.id)).length, 1)
    })

    it('costs one LIST-STATUS per account when nothing changed', async () => {
      const address = await alice()
      // An account with no subscribed mailbox: imapflow would ask LSUB after LIST for it.
      const unsubscribed = await s.user('ursula')
      await s.dovecot.loadMessages(unsubscribed, {INBOX: [{raw: message('u1')}], 'Lists/Dev': [{raw: message('u2')}]})
      await s.scan()
      const revisions = Number((await s.t.catalog.db('item_revisions').count({n: '*'}))[0].n)
      const report = await s.scan()
      assert.deepEqual(mailboxCommands(s.commands.get(address)), ['LIST'])
      assert.deepEqual(mailboxCommands(s.commands.get(unsubscribed)), ['LIST'])
      assert.deepEqual(Object.values(report.totals).filter(n => n !== 0), [])
      assert.equal(Number((await s.t.catalog.db('item_revisions').count({n: '*'}))[0].n), revisions)
      // A changed folder is read with CHANGEDSINCE/VANISHED, and only that one.
      const client = await s.client(address)
      const lock = await client.getMailboxLock('Archive/2024')
      await client.messageFlagsAdd('1', ['Important'], {uid: true})
      lock.release()
      const changed = await s.scan()
      assert.deepEqual(mailboxCommands(s.commands.get(address)), ['LIST', 'EXAMINE', 'UID FETCH'])
      assert.equal(changed.totals.flagsChanged, 1)
      // CHANGEDSINCE: of the two messages there, only the changed one was listed.
      assert.equal(changed.perAccount.find(a => a.account === address)!.listed, 1)
    })

    it('remembers a folder that changed with nothing to record, so that the next scan does not read it again', async () => {
      const address = await alice()
      await s.scan()
      const client = await s.client(address)
      const lock = await client.getMailboxLock('INBOX')
      await client.messageFlagsAdd('1', [String.raw`\Flagged`], {uid: true})
      await client.messageFlagsRemove('1', [String.raw`\Flagged`], {uid: true})
      lock.release()
      const revisions = Number((await s.t.catalog.db('item_revisions').count({n: '*'}))[0].n)
      const changed = await s.scan()
      assert.equal(changed.totals.foldersRead, 1)
      assert.equal(Number((await s.t.catalog.db('item_revisions').count({n: '*'}))[0].n), revisions)
      await s.scan()
      assert.deepEqual(mailboxCommands(s.commands.get(address)), ['LIST'])
    })

    it('keeps one history for a message moved to another folder', async () => {
      const address = await alice()
      await s.scan()
      const before = await s.liveItems(address)
      const moving = before.find(i => i.metadata.subject === 'inbox two')!
      const client = await s.client(address)
      const lock = await client.getMailboxLock('INBOX')
      await client.messageMove(moving.locator!.split('/').at(-1)!, 'Archive/2024', {uid: true})
      lock.release()

      const report = await s.scan()
      assert.equal(report.totals.moved, 1)
      assert.equal(report.totals.created, 0)
      assert.equal(report.totals.deleted, 0)
      const after = await s.liveItems(address)
      assert.equal(after.length, before.length)
      const moved = after.find(i => i.id === moving.id)!
      assert.equal(moved.path, '/Archive/2024')
      assert.equal(moved.digest, moving.digest)
      assert.notEqual(moved.locator, moving.locator)
      const history = await s.revisions(address, moving.id)
      // Shown as the move it was, with the message's new place.
      assert.deepEqual(history.map(r => r.operation), ['item.created', 'item.moved'])
      assert.notEqual(history[0].folder, history[1].folder)
      assert.equal(history[1].locator, moved.locator)
    })

    it('stores a message larger than a FETCH as it arrives: the exact bytes, one history when moved, and its digest when blobless', async () => {
      const address = await s.user('alice')
      const client = await s.client(address)
      // About 6 MB of base64 lines: read in pieces of 1 MB, never held whole.
      const attachment = randomBytes(4_500_000).toString('base64').replaceAll(/.{76}/g, '$&\r\n')
      const large = message('large', attachment, 'MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n')
      assert.ok(large.length > 4 * 1024 * 1024)
      await client.append('INBOX', large, [String.raw`\Seen`], JAN)
      await client.append('INBOX', message('small'), [], JAN)
      assert.equal((await s.scan()).totals.created, 2)
      // Listing, the small message, then the large one in 6 pieces of at most 1 MB (and the empty end of a full last one).
      const fetches = mailboxCommands(s.commands.get(address)).filter(c => c === 'UID FETCH').length
      assert.ok(fetches >= 8, `${fetches} UID FETCH`)
      const item = (await s.liveItems(address)).find(i => i.metadata.subject === 'large')!
      assert.equal(item.digest, sha(large))
      assert.ok((await s.blob(item.digest!)).equals(large))
      assert.deepEqual(readdirSync(path.join(s.t.home, 'items', '.tmp')), [])

      // Deep: hashed as it arrives to be verified, and stored again as it arrives when its blob is missing.
      rmSync(new BlobStore(s.t.home).pathOf(item.digest!))
      const deep = await s.scan({deep: true})
      assert.deepEqual({verified: deep.totals.verified, repaired: deep.totals.repaired}, {verified: 1, repaired: 1})
      assert.ok((await s.blob(item.digest!)).equals(large))
      assert.equal((await s.scan({deep: true})).totals.verified, 2)

      await client.mailboxCreate('Archive')
      const lock = await client.getMailboxLock('INBOX')
      await client.messageMove(item.locator!.split('/').at(-1)!, 'Archive', {uid: true})
      lock.release()
      const moved = await s.scan()
      assert.deepEqual({moved: moved.totals.moved, created: moved.totals.created}, {moved: 1, created: 0})
      // The repair is a revision of its own.
      assert.deepEqual((await s.revisions(address, item.id)).map(r => r.operation), ['item.created', 'item.modified', 'item.moved'])

      // Blobless: hashed as it arrives, nothing stored.
      await setAttribute(s.t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const other = message('large again', attachment)
      await client.append('INBOX', other, [], JAN)
      assert.equal((await s.scan()).totals.created, 1)
      const again = (await s.liveItems(address)).find(i => i.metadata.subject === 'large again')!
      assert.equal(again.digest, sha(other))
      assert.equal(await new BlobStore(s.t.home).has(again.digest!), false)
    })

    it('does not duplicate a mailbox deleted and recreated with the same messages (new UIDVALIDITY)', async () => {
      const address = await alice()
      await s.scan()
      const before = await s.liveItems(address)
      const archived = before.filter(i => i.path === '/Archive/2024')
      const client = await s.client(address)
      const validity = async () => ((await client.status('Archive/2024', {uidValidity: true})) || {uidValidity: 0n}).uidValidity
      const oldValidity = await validity()
      await client.mailboxDelete('Archive/2024')
      await client.mailboxCreate('Archive/2024')
      await client.append('Archive/2024', message('old one'), [String.raw`\Seen`], JAN)
      await client.append('Archive/2024', message('old two'), [String.raw`\Flagged`, String.raw`\Seen`], JAN)
      assert.notEqual(await validity(), oldValidity)

      const report = await s.scan()
      assert.equal(report.totals.created, 0)
      assert.equal(report.totals.deleted, 0)
      assert.equal(report.totals.foldersCreated + report.totals.foldersDeleted, 0)
      assert.equal(report.totals.moved, 2)
      const after = await s.liveItems(address)
      assert.deepEqual(after.map(i => i.id).sort(), before.map(i => i.id).sort())
      for (const item of archived) {
        const now = after.find(i => i.id === item.id)!
        assert.equal(now.folder, item.folder)
        assert.notEqual(now.locator, item.locator)
      }

      assert.deepEqual(after.find(i => i.metadata.subject === 'old two')!.flags, [String.raw`\Flagged`, String.raw`\Seen`])
      const folders = await s.t.catalog.db('folders as f').join('accounts as a', 'a.id', 'f.account_id').where('a.name', address).count({n: '*'})
      assert.equal(Number(folders[0].n), 3)
    })

    it('matches back a recreated mailbox whose messages the server dated anew (new UIDVALIDITY)', async () => {
      const address = await alice()
      await s.scan()
      const archived = (await s.liveItems(address)).filter(i => i.path === '/Archive/2024')
      const client = await s.client(address)
      await client.mailboxDelete('Archive/2024')
      await client.mailboxCreate('Archive/2024')
      // Put back by a tool that does not keep internal dates: a MOVE would keep them, a renumbered mailbox may not.
      const now = new Date('2026-11-01T10:00:00Z')
      await client.append('Archive/2024', message('old one'), [String.raw`\Seen`], now)
      await client.append('Archive/2024', message('old two'), [String.raw`\Flagged`, String.raw`\Seen`], now)

      const report = await s.scan()
      assert.deepEqual([report.totals.created, report.totals.deleted, report.totals.moved], [0, 0, 2])
      const after = await s.liveItems(address)
      for (const item of archived) assert.equal(after.find(i => i.id === item.id)?.path, '/Archive/2024', item.id)
    })

    it('takes a mailbox deleted and made again with other mail for a new folder: the old one and its mail are deleted', async () => {
      const address = await alice()
      await s.scan()
      const archived = (await s.liveItems(address)).filter(i => i.path === '/Archive/2024')
      assert.ok(archived.length > 0)
      const client = await s.client(address)
      await client.mailboxDelete('Archive/2024')
      await client.mailboxCreate('Archive/2024')
      await client.append('Archive/2024', message('other mail'), [], JAN)

      const report = await s.scan()
      assert.deepEqual(
        [report.totals.foldersCreated, report.totals.foldersDeleted, report.totals.created, report.totals.deleted, report.totals.moved],
        [1, 1, 1, archived.length, 0],
      )
      const now = (await s.liveItems(address)).filter(i => i.path === '/Archive/2024')
      assert.deepEqual(now.map(i => i.metadata.subject), ['other mail'])
      assert.notEqual(now[0].folder, archived[0].folder)
    })

    it('follows a folder rename without touching its messages, and a deleted folder', async () => {
      const address = await alice()
      await s.scan()
      const before = await s.liveItems(address)
      const client = await s.client(address)
      await client.mailboxRename('Archive/2024', 'Old mail')
      await client.mailboxDelete('Entwürfe')

      const report = await s.scan()
      assert.equal(report.totals.foldersRenamed, 1)
      assert.equal(report.totals.foldersDeleted, 1)
      assert.equal(report.totals.created + report.totals.moved, 0)
      const after = await s.liveItems(address)
      assert.deepEqual(after.filter(i => i.path === '/Old mail').map(i => i.id).sort(), before.filter(i => i.path === '/Archive/2024').map(i => i.id).sort())
      assert.equal(after.some(i => i.path === '/Entwürfe'), false)
      const renamed = after.find(i => i.path === '/Old mail')!
      assert.equal((await s.revisions(address, renamed.id)).length, 1)
    })

    it('follows a deleted folder that has children, and the account goes on being captured', async () => {
      const address = await alice()
      const client = await s.client(address)
      await client.mailboxCreate('Projects')
      await client.mailboxCreate('Projects/2025')
      await client.append('Projects', message('in the parent'), [], JAN)
      await client.append('Projects/2025', message('in the child'), [], JAN)
      await s.scan()
      // Dovecot (mailbox_list_index) goes on listing the name without \Noselect, and its LIST-STATUS answers
      // "NO Mailbox doesn't exist" for it: the account's every later scan failed, so nothing more of it was captured.
      await client.mailboxDelete('Projects')
      await client.append('INBOX', message('after the delete'), [], JAN)

      const report = await s.scan()
      assert.deepEqual(report.failed, [])
      assert.equal(report.totals.created, 1)
      assert.equal(report.totals.deleted, 1)
      const items = await s.liveItems(address)
      assert.equal(items.some(i => i.metadata.subject === 'in the parent'), false)
      assert.ok(items.some(i => i.metadata.subject === 'in the child' && i.path === '/Projects/2025'))
      assert.ok(items.some(i => i.metadata.subject === 'after the delete' && i.path === '/INBOX'))
    })

    it('resumes an interrupted scan from its last batch without duplicating or losing anything', async () => {
      const address = await alice()
      const settings = imapSettings(await serverConfig(s.t.catalog, SERVER))
      const controller = new AbortController()
      let batches = 0
      await assert.rejects(scanAccount({
        catalog: s.t.catalog,
        server: SERVER,
        settings,
        account: address,
        signal: controller.signal,
        batchSize: 1,
        onProgress() {
          // Stop after two batches of contents, as a crash between two database transactions would.
          if (++batches === 2) controller.abort()
        },
      }), OperationAborted)
      const partial = await s.liveItems(address)
      assert.equal(partial.length, 2)
      // With part of its mail only, the account must not pass for certain: a restore at 'last' scans it first.
      const stateOf = () => s.t.catalog.db('account_state as st').join('accounts as a', 'a.id', 'st.account_id').where('a.name', address).first('st.certain', 'st.reason')
      const state = await stateOf()
      assert.ok(state, 'no state is certain by default')
      assert.equal(Boolean(state.certain), false)
      assert.equal(state.reason, FIRST_CAPTURE_UNFINISHED)
      assert.match(state.reason, /first SmartScan has not finished/)

      const report = await s.scan()
      assert.equal(Boolean((await stateOf()).certain), true, 'the scan that finished the capture clears it')
      assert.equal(report.totals.created, 6 - partial.length)
      assert.equal(report.totals.moved + report.totals.deleted, 0)
      const items = await s.liveItems(address)
      assert.equal(items.length, 6)
      assert.equal(new Set(items.map(i => i.digest)).size, 6)
      assert.deepEqual(mailboxCommands((await s.scan(), s.commands.get(address))), ['LIST'])
    })

    it('two cycles of one account at once (a SmartScan beside the daemon) never both commit the same changes', async () => {
      const address = await alice()
      await s.scan()
      const client = await s.client(address)
      await client.mailboxOpen('INBOX')
      await client.messageFlagsAdd('1:*', ['$Both'], {uid: true})
      await client.mailboxClose()
      const settings = imapSettings(await serverConfig(s.t.catalog, SERVER))
      // Both cycles read the server and the backup before either writes: then each batch of one of them was computed
      // from a backup the other has changed since.
      const queue = writeQueue()
      let arrived = 0
      let release!: () => void
      const bothRead = new Promise<void>(resolve => {
        release = resolve
      })
      const serialize: Serialize = async work => {
        if (++arrived === 2) release()
        await bothRead
        return queue(work)
      }

      const scan = () => scanAccount({
        catalog: s.t.catalog, server: SERVER, settings, account: address, signal: new AbortController().signal, batchSize: 1, serialize,
      })
      // The one that finds the checkpoint moved reads the account again (ScannerConflict): both end well.
      await Promise.all([scan(), scan()])
      const inbox = (await s.liveItems(address)).filter(i => i.path === '/INBOX')
      assert.equal(inbox.length, 3)
      for (const item of inbox) {
        assert.ok(item.flags.includes('$Both'), item.id)
        assert.deepEqual((await s.revisions(address, item.id)).map(r => r.operation), ['item.created', 'item.flags'], item.id)
      }
    })

    it('lists a large folder new to the backup a window at a time: every message once, moves into it matched', async () => {
      const address = await alice()
      const client = await s.client(address)
      // INBOX at UIDs 1, 3 and 4: the first window's UID range (1:3) spans the expunged one.
      await client.append('INBOX', message('inbox four'), [], JAN)
      const inbox = await client.getMailboxLock('INBOX')
      await client.messageDelete('2', {uid: true})
      inbox.release()
      const settings = imapSettings(await serverConfig(s.t.catalog, SERVER))
      const commands: string[] = []
      // Windows of 2: INBOX (3) and, later, Projects (3) are listed by UID; Archive/2024 (2) and Entwürfe (1) whole.
      const scan = () => scanAccount({
        catalog: s.t.catalog, server: SERVER, settings, account: address, signal: new AbortController().signal, listWindow: 2, onCommand: c => commands.push(c),
      })

      const first = await scan()
      assert.equal(commands.filter(c => c === 'UID SEARCH').length, 1)
      assert.equal(first.created, 6)
      assert.equal(first.listed, 6)
      const items = await s.liveItems(address)
      assert.deepEqual(items.map(i => i.metadata.subject).sort(), ['draft', 'inbox four', 'inbox one', 'inbox three', 'old one', 'old two'])
      assert.deepEqual(items.filter(i => i.path === '/INBOX').map(i => i.locator!.split('/').at(-1)).sort(), ['1', '3', '4'])
      assert.deepEqual(items.find(i => i.metadata.subject === 'inbox three')!.flags, [String.raw`\Answered`, String.raw`\Seen`])

      // A folder new to the backup of an account it has: two messages moved into it keep their history.
      await client.mailboxCreate('Projects')
      const lock = await client.getMailboxLock('INBOX')
      await client.messageMove('1,3', 'Projects', {uid: true})
      lock.release()
      await client.append('Projects', message('project plan'), [], JAN)
      const second = await scan()
      assert.equal(second.moved, 2)
      assert.equal(second.created, 1)
      assert.equal(second.deleted, 0)
      const after = await s.liveItems(address)
      assert.equal(after.length, 7)
      for (const item of items.filter(i => ['inbox one', 'inbox three'].includes(String(i.metadata.subject)))) {
        assert.equal(after.find(i => i.id === item.id)!.path, '/Projects')
      }

      assert.deepEqual(mailboxCommands((await s.scan(), s.commands.get(address))), ['LIST'])
    })

    it('deep true re-reads everything, verifies digests and puts back a blob missing from the backup', async () => {
      const address = await alice()
      await s.scan()
      const items = await s.liveItems(address)
      const victim = items.find(i => i.metadata.subject === 'inbox three')!
      rmSync(new BlobStore(s.t.home).pathOf(victim.digest!))

      const report = await s.scan({deep: true})
      assert.equal(report.totals.foldersRead, 3)
      assert.equal(report.totals.verified, 5)
      assert.equal(report.totals.repaired, 1)
      assert.equal(report.totals.created + report.totals.deleted + report.totals.moved, 0)
      assert.equal(sha(await s.blob(victim.digest!)), victim.digest)
      assert.ok(s.events.some(e => e.kind === 'warning' && e.message.includes(victim.id)))
    })

    it('deep true puts back a blob whose file is there but corrupt, keeping the bad file in quarantine', async () => {
      const address = await alice()
      await s.scan()
      const victim = (await s.liveItems(address)).find(i => i.metadata.subject === 'inbox three')!
      const file = new BlobStore(s.t.home).pathOf(victim.digest!)
      // One bit flipped in the gzip body: the file is there under its name, its content no longer hashes to it.
      const bytes = readFileSync(file)
      bytes[bytes.length - 12] ^= 0xFF
      writeFileSync(file, bytes)

      const report = await s.scan({deep: true})
      assert.equal(report.totals.repaired, 1)
      assert.equal(report.totals.verified, 5)
      assert.equal(sha(await s.blob(victim.digest!)), victim.digest)
      assert.ok(s.events.some(e => e.kind === 'warning' && e.message.includes(victim.id) && e.message.includes('corrupt')))
      const quarantined = readdirSync(path.join(s.t.home, 'quarantine'), {recursive: true}).map(String)
      assert.ok(quarantined.some(name => name.endsWith(victim.digest!)), quarantined.join(', '))
      assert.equal((await s.scan({deep: true})).totals.repaired, 0)
    })
  })
}
