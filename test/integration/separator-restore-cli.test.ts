import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN, snapshot} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess, USER_PASSWORD, userClient,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// A server whose separator is "/" lets a folder name hold "." (Zimbra, Dovecot with LAYOUT=fs); Dovecot's Maildir++
// layout, with its default separator ".", reads "Projects.2024" as 2024 under Projects.
describe('restores onto a server whose hierarchy separator is "." , through bin/run.js', function () {
  this.timeout(30_000)
  let source: TestDovecot
  let dotted: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    source = await startTestDovecot({layout: 'fs'})
    dotted = await startTestDovecot({separator: '.'})
  })

  after(async () => {
    await source.stop()
    await dotted.stop()
  })

  beforeEach(async () => {
    bed = await imapCliBed(source)
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('keeps a folder whose name holds "." apart from the folder under its namesake, in the restore and its preview', async () => {
    const alice = await bed.user('alice')
    const client = await bed.client(alice)
    for (const folder of ['Projects', 'Projects/2024', 'Projects.2024']) {
      await client.mailboxCreate(folder)
      await client.append(folder, message(`in ${folder}`), [String.raw`\Seen`], JAN)
    }

    await bed.closeClients()
    assert.equal((await runCli(['backup', 'doAccountScan', alice], bed.t.env)).code, 0)
    const passwordFile = path.join(bed.t.home, 'dotted-password')
    writeFileSync(passwordFile, `${dotted.masterPassword}\n`, {mode: 0o600})
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', dotted.url)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
    await dotted.addUser(alice, USER_PASSWORD)
    for (let run = 0; run < 2; run++) {
      const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last', 'force', 'true'], bed.t.env)
      assert.equal(restore.code, 0, restore.stderr)
    }

    const restored = await userClient(dotted, alice, USER_PASSWORD)
    const {messages} = await snapshot(restored)
    await restored.logout()
    assert.deepEqual(messages.map(line => line.split(' ')[0]), ['Projects', 'Projects.2024', 'Projects_2024'])
    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    const {add, liveOnly} = JSON.parse(preview.stdout)
    assert.deepEqual({add: add.folders, messages: add.messages.length, liveOnly: liveOnly.messages.length}, {add: [], messages: 0, liveOnly: 0})
  })

  it('previews a folder whose name holds "." and its namesake with "_" as the one folder the restore fills, not as live-only mail', async () => {
    const alice = await bed.user('alice')
    const client = await bed.client(alice)
    await client.mailboxCreate('A.B')
    await client.append('A.B', message('same'), [], JAN)
    await client.mailboxCreate('A_B')
    await client.append('A_B', message('same'), [], JAN)
    await client.append('A_B', message('other'), [], JAN)
    await bed.closeClients()
    await scanInProcess(bed, alice)
    const passwordFile = path.join(bed.t.home, 'dotted-password')
    writeFileSync(passwordFile, `${dotted.masterPassword}\n`, {mode: 0o600})
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', dotted.url)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
    await dotted.addUser(alice, USER_PASSWORD)
    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    const {add, differ, liveOnly, unchanged} = JSON.parse(preview.stdout)
    assert.deepEqual({
      add: add.messages.length, differ: differ.length, liveOnly: liveOnly.messages.length, unchanged,
    }, {
      add: 0, differ: 0, liveOnly: 0, unchanged: 3,
    })
  })

  it('says once per run that a folder whose name holds "." is restored as another name, in the restores and the preview', async function () {
    // Seven runs of the CLI.
    this.timeout(90_000)
    const alice = await bed.user('alice')
    const client = await bed.client(alice)
    await client.mailboxCreate('Projects.2024')
    await client.append('Projects.2024', message('one'), [], JAN)
    await client.append('Projects.2024', message('two'), [], JAN)
    await bed.closeClients()
    await scanInProcess(bed, alice)
    const search = await runCli(['backup', 'doItemSearch', alice, '--json'], bed.t.env)
    const [{id}] = JSON.parse(search.stdout).matches
    const passwordFile = path.join(bed.t.home, 'dotted-password')
    writeFileSync(passwordFile, `${dotted.masterPassword}\n`, {mode: 0o600})
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerUrl', dotted.url)
    await setAttribute(bed.t.catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
    await dotted.addUser(alice, USER_PASSWORD)
    const said = 'WARNING folder "/Projects.2024" is restored as "/Projects_2024": "." is the destination\'s hierarchy separator'
    const renamedFolders = [{folder: '/Projects.2024', restoredAs: '/Projects_2024', separator: '.'}]
    const saidIn = (stdout: string) => stdout.split('\n').filter(line => line === said).length

    const preview = await runCli(['backup', 'getRestorePreview', alice, 'last'], bed.t.env)
    assert.equal(preview.code, 0, preview.stderr)
    assert.equal(saidIn(preview.stdout), 1, preview.stdout)
    const previewJson = await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)
    assert.deepEqual(JSON.parse(previewJson.stdout).renamedFolders, renamedFolders)

    const restore = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last'], bed.t.env)
    assert.equal(restore.code, 0, restore.stderr)
    assert.equal(saidIn(restore.stdout), 1, restore.stdout)
    // Run again (nothing to add): the folder is still found under its new name, and the line still said.
    const again = await runCli(['backup', 'doRestoreOnNewAccount', alice, alice, 'last', 'force', 'true', '--json'], bed.t.env)
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(JSON.parse(again.stdout).result.renamedFolders, renamedFolders)

    const item = await runCli(['backup', 'doItemRestore', alice, id], bed.t.env)
    assert.equal(item.code, 0, item.stderr)
    assert.equal(saidIn(item.stdout), 1, item.stdout)
    assert.match(item.stdout, /is already in \/Projects.2024: nothing restored/)
  })
})
