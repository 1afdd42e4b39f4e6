import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN, messagesNow} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess, USER_PASSWORD, userClient,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// The server a backup is restored to may name its special-use folders otherwise (a German Dovecot: Gesendet,
// Entwürfe, Papierkorb, Spam), as after a move to a new server: a mail client looks for sent mail in the \Sent one.
describe('restores onto a server whose special-use folders have other names, through bin/run.js', function () {
  this.timeout(30_000)
  let german: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    german = await startTestDovecot({
      specialUse: {
        Entwürfe: String.raw`\Drafts`, Gesendet: String.raw`\Sent`, Papierkorb: String.raw`\Trash`, Spam: String.raw`\Junk`,
      },
    })
  })

  after(async () => {
    await german.stop()
  })

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  /** alice on the English server with mail in each special-use folder, scanned. */
  async function aliceScanned(): Promise<string> {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {
      INBOX: [{raw: message('in'), internalDate: JAN}],
      Sent: [{raw: message('sent'), internalDate: JAN}],
      Drafts: [{raw: message('draft'), internalDate: JAN}],
      Trash: [{raw: message('trashed'), internalDate: JAN}],
      Junk: [{raw: message('junk'), internalDate: JAN}],
      Projects: [{raw: message('project'), internalDate: JAN}],
    })
    await scanInProcess(bed, alice)
    return alice
  }

  /** Points the backup at the German server, where alice exists with its own special-use folders (first login). */
  async function ontoGerman(alice: string): Promise<void> {
    const passwordFile = path.join(bed.t.home, 'german-password')
    writeFileSync(passwordFile, `${german.masterPassword}\n`, {mode: 0o600})
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', german.url)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
    await german.addUser(alice, USER_PASSWORD)
    const client = await userClient(german, alice, USER_PASSWORD)
    await client.logout()
  }

  /** The folders of alice's messages on the German server. */
  async function germanFolders(alice: string): Promise<string[]> {
    const clients: ImapFlow[] = []
    const onGerman = {
      async client(address: string) {
        clients.push(await userClient(german, address, USER_PASSWORD))
        return clients.at(-1)!
      },
      async closeClients() {
        await Promise.all(clients.map(opened => opened.logout()))
      },
    }
    return (await messagesNow(onGerman, alice)).map(line => line.split(' ')[0]).sort()
  }

  const GERMAN = ['Entwürfe', 'Gesendet', 'INBOX', 'Papierkorb', 'Projects', 'Spam']

  it('puts the messages of Sent, Drafts, Trash and Junk into the destination\'s folders of the same special use', async () => {
    const alice = await aliceScanned()
    await ontoGerman(alice)

    // The preview says what the restore then does: no Sent, Drafts, Trash or Junk to add beside the German ones.
    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    const {add, liveOnly} = JSON.parse(preview.stdout)
    assert.deepEqual({add: add.folders, liveOnly: liveOnly.folders}, {add: ['/Projects'], liveOnly: []})

    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    assert.deepEqual(await germanFolders(alice), GERMAN)
  })

  it(String.raw`prefers the destination's special-use folder to a plain folder of the same name (a "Sent" without \Sent)`, async () => {
    const alice = await aliceScanned()
    await ontoGerman(alice)
    // Left over from an old client: plain folders that no mail client shows as the sent mail or the trash.
    const client = await userClient(german, alice, USER_PASSWORD)
    await client.mailboxCreate('Sent')
    await client.mailboxCreate('Trash')
    await client.logout()

    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    assert.deepEqual(JSON.parse(preview.stdout).add.folders, ['/Projects'])
    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last', 'force', 'true'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    assert.deepEqual(await germanFolders(alice), GERMAN)
  })

  it('doItemRestore of a sent message finds it in the destination\'s sent folder, and never makes a plain Sent', async () => {
    const alice = await aliceScanned()
    await ontoGerman(alice)
    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    const row = await bed.t.catalog.db('items as i').join('item_revisions as r', 'r.item_id', 'i.id')
    .where('r.metadata', 'like', '%"subject":"sent"%').first('i.remote_id')
    const item = await runCli(['backup', 'doItemRestore', alice, row.remote_id], bed.t.env)
    assert.equal(item.code, 0, item.stderr)
    assert.deepEqual(await germanFolders(alice), GERMAN)
  })

  it('doUndelete of a message deleted from Sent before the move puts it into the destination\'s sent folder', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {Sent: [{raw: message('sent'), internalDate: JAN}]})
    await scanInProcess(bed, alice)
    const client = await bed.client(alice)
    await client.mailboxOpen('Sent')
    await client.messageDelete('1:*')
    await bed.closeClients()
    await scanInProcess(bed, alice)
    await ontoGerman(alice)
    for (let run = 0; run < 2; run++) {
      const undelete = await runCli(['backup', 'doUndelete', alice, 'first', 'last'], bed.t.env)
      assert.equal(undelete.code, 0, undelete.stderr)
    }

    assert.deepEqual(await germanFolders(alice), ['Gesendet'])
  })

  it('doExternalRestore of an export does the same, by the special use folders.json records', async () => {
    const alice = await aliceScanned()
    const exportDir = path.join(bed.t.home, 'export')
    const exported = await runCli(['backup', 'doExport', exportDir, 'accounts', alice], bed.t.env)
    assert.equal(exported.code, 0, exported.stderr)
    await ontoGerman(alice)
    const imported = await runCli(['backup', 'doExternalRestore', exportDir], bed.t.env)
    assert.equal(imported.code, 0, imported.stderr)
    assert.deepEqual(await germanFolders(alice), GERMAN)
  })

  it('puts a folder under Sent (Sent/2024) under the destination\'s sent folder, in the restore and its preview', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {
      INBOX: [{raw: message('in'), internalDate: JAN}],
      Sent: [{raw: message('sent'), internalDate: JAN}],
      'Sent/2024': [{raw: message('sent in 2024'), internalDate: JAN}],
    })
    await scanInProcess(bed, alice)
    await ontoGerman(alice)

    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    const {add} = JSON.parse(preview.stdout)
    assert.deepEqual(add.folders, ['/Sent/2024'])
    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    assert.deepEqual(await germanFolders(alice), ['Gesendet', 'Gesendet/2024', 'INBOX'])
    // Compared where the restore put it: nothing left to add (the German folders alice had no mail of are live only).
    const after = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(after.code, 0, after.stderr)
    const again = JSON.parse(after.stdout)
    assert.deepEqual({folders: again.add.folders, messages: again.add.messages.length, liveOnly: again.liveOnly.folders}, {folders: [], messages: 0, liveOnly: ['/Entwürfe', '/Papierkorb', '/Spam']})
  })
})
