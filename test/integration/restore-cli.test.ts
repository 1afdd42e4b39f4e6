import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {runCli, UUID} from '../helpers/run-cli.js'

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex')

describe('backup doRestoreOnNewAccount and doItemRestore through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('restores an account into an empty one, refuses a non-empty one, and brings back a deleted message', async () => {
    const {dovecot, domain, t} = bed
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('one'), flags: [String.raw`\Seen`]}, {raw: message('two')}, {raw: message('two')}], 'Work/Plans': [{raw: message('plan')}]})
    const scan = await runCli(['backup', 'doAccountScan', alice], t.env)
    assert.equal(scan.code, 0, scan.stderr)

    const json = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last', '--json'], t.env)
    assert.equal(json.code, 0, json.stderr)
    const view = JSON.parse(json.stdout)
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.result.restored, 4)
    assert.equal(view.result.unrestored, 0)

    const nobody = await runCli(['backup', 'doRestoreOnNewAccount', alice, `nobody@${domain}`, 'last'], t.env)
    assert.equal(nobody.code, 1)
    const failed = nobody.stderr.split('\n').filter(line => line.startsWith('doRestoreOnNewAccount Failed: '))
    assert.equal(failed.length, 1, nobody.stderr)
    assert.match(failed[0], new RegExp(`would not open nobody@${domain} for .*does the account exist there`))

    // A mistyped year and a keyword naming no single moment are refused before any operation, in one line.
    const operationsBefore = Number((await t.catalog.db('operations').count({n: '*'}))[0].n)
    const nextYear = new Date().getFullYear() + 1
    const future = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, `27/11/${nextYear} 00:00:00`], t.env)
    assert.equal(future.code, 2)
    assert.match(future.stderr, new RegExp(`^Error: date '27/11/${nextYear} 00:00:00' is in the future \\(.*\\): use last for the newest state\n`))
    const first = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'first'], t.env)
    assert.equal(first.code, 2)
    assert.match(first.stderr, /^Error: date takes a date or last, not 'first'\n/)
    const typo = await runCli(['backup', 'doRestoreOnNewAccount', alice.replace('alice', 'alcie'), bob, 'last'], t.env)
    assert.equal(typo.code, 1)
    assert.match(typo.stderr, new RegExp(`^Error: account alcie@${domain} is not in the backup \\(did you mean ${alice}\\?\\)`))
    assert.equal(Number((await t.catalog.db('operations').count({n: '*'}))[0].n), operationsBefore)

    const refused = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, new RegExp(`doRestoreOnNewAccount Failed: ${bob} is not empty \\(4 messages\\)`))
    const forced = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last', 'force', 'true'], t.env)
    assert.equal(forced.code, 0, forced.stderr)
    const [uuid, ...lines] = forced.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.deepEqual(lines, [`restored ${alice} at last into ${bob}: 0 restored, 4 skipped (already there), 0 unrestored in 2 folders`])

    const client = await bed.client(alice)
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1', {uid: true})
      await client.mailboxClose()
      assert.equal((await runCli(['backup', 'doAccountScan', alice], t.env)).code, 0)
      const row = await t.catalog.db('items as i').join('item_revisions as r', 'r.item_id', 'i.id')
      .where('r.metadata', 'like', '%"subject":"one"%').first('i.remote_id')
      for (const nowhere of ['/', '']) {
        const refusedFolder = await runCli(['backup', 'doItemRestore', alice, row.remote_id, 'restore_folder', nowhere], t.env)
        assert.equal(refusedFolder.code, 1)
        assert.equal(refusedFolder.stderr, `Error: restore_folder '${nowhere}' names no folder: give a folder path such as /Restored\n`)
      }

      const restored = await runCli(['backup', 'doItemRestore', alice, row.remote_id, 'restore_folder', 'Back/'], t.env)
      assert.equal(restored.code, 0, restored.stderr)
      assert.match(restored.stdout, new RegExp(`restored item ${row.remote_id} \\(state of .*\\) into /Back`))
      const status = await client.status('Back', {messages: true})
      assert.equal(status && status.messages, 1)
    } finally {
      await bed.closeClients()
    }
  })

  it('says a blobless restore with a message gone on the server was partial: exit 1, named, the rest restored', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const carol = await bed.user('carol')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('kept')}, {raw: message('vanishing')}]})
    await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    assert.equal((await runCli(['backup', 'doAccountScan', alice], t.env)).code, 0)

    // The server loses one message after the scan: the backup has its history but, in blobless mode, no content.
    const client = await bed.client(alice)
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('2', {uid: true})
    } finally {
      await bed.closeClients()
    }

    const partial = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last', '--json'], t.env)
    assert.equal(partial.code, 1, partial.stderr)
    const view = JSON.parse(partial.stdout)
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.partial, true)
    assert.equal(view.result.restored, 1)
    assert.equal(view.result.unrestored, 1)
    assert.equal(view.result.unrestoredItems.length, 1)
    const text = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last', 'force', 'true'], t.env)
    assert.equal(text.code, 1)
    assert.match(text.stdout, /not restored: item \S+ in \/INBOX: its content is not in the backup \(blobless mode\) and is gone from the AppServer/)
    assert.match(text.stdout, /PARTIAL: 1 item\(s\) could not be restored/)
  })

  it('restores a blobless message moved to another folder on the server since the scan, byte for byte', async () => {
    // The locator recorded by the scan names the old folder's UID: the message is still on the server, elsewhere.
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const carol = await bed.user('carol')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('moving')}, {raw: message('stay')}], Archive: []})
    await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    await scanInProcess(bed, alice)
    const client = await bed.client(alice)
    await client.mailboxOpen('INBOX')
    await client.messageMove({header: {subject: 'moving'}}, 'Archive')
    await bed.closeClients()

    const restored = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, 'last', '--json'], t.env)
    assert.equal(restored.code, 0, restored.stdout)
    assert.equal(JSON.parse(restored.stdout).result.restored, 2)
    const carolClient = await bed.client(carol)
    await carolClient.mailboxOpen('INBOX')
    const inbox = await carolClient.fetchAll('1:*', {source: true})
    assert.deepEqual(inbox.map(m => sha(m.source!)).sort(), [sha(message('moving')), sha(message('stay'))].sort())
  })

  it('getItem dump_blob of a blobless message writes the bytes read back from the AppServer, and says when gone there', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('dumped')}]})
    await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    await scanInProcess(bed, alice)
    const {remote_id: item} = await t.catalog.db('items').first('remote_id')

    const dumped = await runCli(['backup', 'getItem', alice, item, 'dump_blob', 'true'], t.env)
    assert.equal(dumped.code, 0, dumped.stderr)
    assert.equal(sha(dumped.stdout), sha(message('dumped')))

    const client = await bed.client(alice)
    await client.mailboxOpen('INBOX')
    await client.messageDelete('1:*')
    await bed.closeClients()
    const gone = await runCli(['backup', 'getItem', alice, item, 'dump_blob', 'true'], t.env)
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /cannot dump the content of .*: its content is not in the backup \(blobless mode\) and is gone from the AppServer/)
  })
})
