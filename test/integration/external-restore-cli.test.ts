import assert from 'node:assert/strict'
import {
  appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN, sha, snapshot} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {GLOBAL, type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli, UUID} from '../helpers/run-cli.js'

describe('backup doExternalRestore through bin/run.js', () => {
  let bed: ImapCliBed
  let exportDir: string

  beforeEach(async () => {
    bed = await imapCliBed()
    exportDir = path.join(mkdtempSync(path.join(tmpdir(), 'carbonio-external-')), 'export')
  })

  afterEach(async () => {
    await bed.cleanup()
    rmSync(path.dirname(exportDir), {force: true, recursive: true})
  })

  /**
   * Writes alice's account of an export tree by hand (Maildir files as [folder, file, content], items.ndjson lines, a
   * manifest), then imports the tree with the Realtime Scanner off, as a migration does.
   */
  async function importHandMade(alice: string, files: ReadonlyArray<readonly [string, string, Buffer]>, items = ''): Promise<Awaited<ReturnType<typeof runCli>>> {
    const account = path.join(exportDir, alice)
    for (const [folder, file, content] of files) {
      mkdirSync(path.join(account, 'Maildir', folder, 'cur'), {recursive: true})
      writeFileSync(path.join(account, 'Maildir', folder, 'cur', file), content)
    }

    writeFileSync(path.join(account, 'items.ndjson'), items)
    writeFileSync(path.join(account, 'manifest.json'), JSON.stringify({formatVersion: 1, generator: 'carbonio-backup', account: alice}))
    await setAttribute(bed.t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'FALSE')
    return runCli(['backup', 'doExternalRestore', exportDir, '--json'], bed.t.env)
  }

  /** alice with three folders (one with a non-ASCII name), flags, a keyword and old internal dates, backed up and exported. */
  async function exportAlice(): Promise<string> {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {
      INBOX: [
        {raw: message('inbox one'), internalDate: JAN},
        {raw: message('inbox two'), flags: [String.raw`\Seen`], internalDate: JAN},
        {raw: message('inbox three', 'x'.repeat(20_000)), flags: [String.raw`\Seen`, String.raw`\Answered`], internalDate: JAN},
      ],
      'Archive/2024': [{raw: message('old one'), flags: [String.raw`\Flagged`], internalDate: JAN}],
    })
    const client = await bed.client(alice)
    await client.mailboxCreate('Entwürfe')
    await client.append('Entwürfe', message('draft', 'Grüße'), [String.raw`\Draft`, '$Label1'], JAN)
    await client.append('Entwürfe', Buffer.from('Subject: no id\r\n\r\nA message without Message-ID.\r\n'), [], JAN)
    const scan = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(scan.code, 0, scan.stderr)
    const exported = await runCli(['backup', 'doExport', exportDir, 'accounts', alice], bed.t.env)
    assert.equal(exported.code, 0, exported.stderr)
    return alice
  }

  it('recreates a deleted account with the provisioning command: same folders, bytes, flags, keywords and dates; a second run adds nothing', async () => {
    const alice = await exportAlice()
    const before = await snapshot(await bed.client(alice))
    // The account is gone from the server, as after a disaster: the import must create it again.
    await bed.closeClients()
    await bed.dovecot.removeUser(alice)
    rmSync(bed.dovecot.maildirOf(alice), {force: true, recursive: true})

    // Without a provisioning command the account is reported as not imported, naming the attribute.
    const refused = await runCli(['backup', 'doExternalRestore', exportDir, '--json'], bed.t.env)
    assert.equal(refused.code, 1, refused.stderr)
    const refusedView = JSON.parse(refused.stdout)
    assert.equal(refusedView.partial, true)
    assert.match(refusedView.result.accounts[0].error, /backupProvisioningCommand/)

    await setAttribute(bed.t.catalog, GLOBAL, 'backupProvisioningCommand', `sh ${bed.provisionScript} {account}`)
    // A contact in items.ndjson (as a Carbonio export has): IMAP cannot carry it, so it is listed, not imported.
    const accountDir = path.join(exportDir, alice)
    appendFileSync(path.join(accountDir, 'items.ndjson'), JSON.stringify({
      id: '900', type: 'contact', folder: '7', folderPath: '/Contacts', flags: [], tags: [], metadata: {}, digest: null, size: 0, file: null,
    }) + '\n')
    const imported = await runCli(['backup', 'doExternalRestore', exportDir, '--json'], bed.t.env)
    assert.equal(imported.code, 0, imported.stderr)
    const view = JSON.parse(imported.stdout)
    assert.equal(view.outcome, 'Successful')
    const [account] = view.result.accounts
    assert.equal(account.account, alice)
    assert.equal(account.created, true)
    assert.equal(account.restored, 6)
    assert.equal(account.skipped, 0)
    assert.equal(account.unrestored, 1)
    assert.equal(account.unrestoredMessages, 0)
    assert.deepEqual(account.unrestoredItems, [{
      item: '900', type: 'contact', folderPath: '/Contacts', reason: 'a contact cannot be restored over IMAP, which carries mail only',
    }])
    assert.equal(view.result.realtimeScanner, true)
    assert.match(view.result.warnings[0], /Realtime Scanner is on .* multi-domain import .* SmartScan is due/)
    assert.deepEqual(await snapshot(await bed.client(alice)), before)

    const again = await runCli(['backup', 'doExternalRestore', exportDir], bed.t.env)
    assert.equal(again.code, 0, again.stderr)
    const [uuid, ...lines] = again.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.ok(lines[0].startsWith('WARNING the Realtime Scanner is on'), lines[0])
    assert.ok(lines.includes(`${alice}: 0 restored, 6 skipped (already there), 1 unrestored in 3 folders`), again.stdout)
    assert.ok(lines.includes(`not restored: ${alice} contact 900 in /Contacts: a contact cannot be restored over IMAP, which carries mail only`))
    assert.equal(lines.at(-1), `imported 1 of 1 accounts from ${exportDir}: 0 restored, 6 skipped (already there), 1 unrestored`)
    assert.deepEqual(await snapshot(await bed.client(alice)), before)
  })

  it('takes flags from the Maildir file names and imports into an existing account; no warning with the scanner off', async () => {
    const alice = await exportAlice()
    await setAttribute(bed.t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'FALSE')
    // A mail program flagged "inbox one" in the export: renaming the file is how Maildir records it.
    const cur = path.join(exportDir, alice, 'Maildir', 'cur')
    const file = readdirSync(cur).find(name => readFileSync(path.join(cur, name)).includes('Subject: inbox one'))!
    renameSync(path.join(cur, file), path.join(cur, file.replace(/:2,$/, ':2,F')))
    const bob = await bed.user('bob')
    const copy = path.join(path.dirname(exportDir), 'bob')
    renameSync(path.join(exportDir, alice), copy)
    // The export names the account it imports into: alice's mail, moved to bob.
    const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'))
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({...manifest, account: bob}))

    // One account's directory is a tree too.
    const imported = await runCli(['backup', 'doExternalRestore', copy], bed.t.env)
    assert.equal(imported.code, 0, imported.stderr)
    assert.doesNotMatch(imported.stdout + imported.stderr, /Realtime Scanner/)
    assert.match(imported.stdout, new RegExp(`${bob}: 6 restored, 0 skipped \\(already there\\), 0 unrestored in 3 folders`))
    const bobs = await snapshot(await bed.client(bob))
    const alices = await snapshot(await bed.client(alice))
    const flagged = alices.messages.map(line => (line.includes(sha(message('inbox one'))) ? line.replace('[]', String.raw`[\Flagged]`) : line))
    assert.deepEqual(bobs, {folders: alices.folders, messages: flagged.sort()})
  })

  it('imports the other folders when the server refuses one folder name, listing that folder\'s messages as not imported', async () => {
    // A Carbonio export (where "/v1.2" is a folder name) into a Maildir++ Dovecot, which allows no "." in a name.
    const alice = await bed.user('alice')
    const imported = await importHandMade(alice, [['', 'inbox'], [String.raw`.v1\2e2`, 'dotted'], ['.zz', 'after']].map(([folder, file]) =>
      [folder, `1600000000.${file}.host:2,S`, message(file)] as const))
    assert.equal(imported.code, 1, imported.stderr)
    const [result] = JSON.parse(imported.stdout).result.accounts
    assert.equal(result.error, null)
    assert.equal(result.restored, 2)
    assert.equal(result.unrestoredMessages, 1)
    assert.equal(result.unrestoredItems[0].folderPath, '/v1.2')
    assert.match(result.unrestoredItems[0].reason, /would not create the folder \/v1\.2 in .*Character not allowed/)
    const {folders} = await snapshot(await bed.client(alice))
    assert.deepEqual(folders, ['INBOX', 'zz'])
  })

  it('lists a message the server will not take (an empty file of a cut-short copy) as not imported and imports the rest', async () => {
    // A copy of the export that was cut short leaves empty files; Dovecot answers NO to a zero-byte APPEND. That one
    // message is not restored, with the server's reason; the account's other messages and folders still go in.
    const alice = await bed.user('alice')
    const files = [['', 'one', message('one')], ['', 'empty', Buffer.alloc(0)], ['', 'two', message('two')], ['.zz', 'after', message('after')]] as const
    const imported = await importHandMade(alice, files.map(([folder, file, content]) => [folder, `1600000000.${file}.carbonio-backup:2,S`, content] as const))
    assert.equal(imported.code, 1, imported.stderr)
    const [result] = JSON.parse(imported.stdout).result.accounts
    assert.equal(result.error, null)
    assert.equal(result.restored, 3)
    assert.equal(result.unrestoredMessages, 1)
    assert.equal(result.unrestoredItems[0].item, 'empty')
    assert.equal(result.unrestoredItems[0].folderPath, '/INBOX')
    assert.match(result.unrestoredItems[0].reason, /would not append the message to INBOX in .*zero byte/)
    const {messages} = await snapshot(await bed.client(alice))
    assert.deepEqual(messages.map(line => line.split(' ')[0]), ['INBOX', 'INBOX', 'zz'])
  })

  it('exports a blobless backup with the content read from the AppServer, listing a message gone there', async () => {
    // Blobless mode keeps no content: a migration's export must read it back from the old server, as restores do.
    await setAttribute(bed.t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('kept'), internalDate: JAN}, {raw: message('gone'), internalDate: JAN}]})
    const scan = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(scan.code, 0, scan.stderr)
    // Expunged on the server after the scan: its content is nowhere now.
    const client = await bed.client(alice)
    await client.mailboxOpen('INBOX')
    await client.messageDelete({header: {subject: 'gone'}})
    await bed.closeClients()

    const exported = await runCli(['backup', 'doExport', exportDir, '--json'], bed.t.env)
    assert.equal(exported.code, 0, exported.stderr)
    const [account] = JSON.parse(exported.stdout).result.accounts
    assert.equal(account.messages, 1)
    assert.equal(account.missingContent, 1)
    const cur = path.join(exportDir, alice, 'Maildir', 'cur')
    assert.deepEqual(readdirSync(cur).map(name => sha(readFileSync(path.join(cur, name)))), [sha(message('kept'))])
    const manifest = JSON.parse(readFileSync(path.join(exportDir, alice, 'manifest.json'), 'utf8'))
    assert.match(manifest.missingContent[0].reason, /blobless mode\) and is gone from the AppServer/)
  })

  it('dates a message of a redolog-fed export by its creation when the copied tree did not keep the file times', async () => {
    // A backup fed by Carbonio's redolog records no IMAP internal date: the export gives the item's creation (firstSeen)
    // as the file's mtime, which `cp -r` or `scp -r` to the new server replace by the time of the copy.
    const alice = await bed.user('alice')
    const name = '1793527260.301.carbonio-backup:2,S'
    const imported = await importHandMade(alice, [['', name, message('old mail')]], JSON.stringify({
      id: '301', type: 'message', folder: '2', folderPath: '/Inbox', flags: [String.raw`\Seen`], tags: [], metadata: {subject: 'old mail'},
      digest: sha(message('old mail')), size: message('old mail').length, file: path.join('Maildir', 'cur', name), firstSeen: '2026-11-01T10:01:00.000Z',
    }) + '\n')
    assert.equal(imported.code, 0, imported.stderr)
    const {messages} = await snapshot(await bed.client(alice))
    assert.deepEqual(messages, [`INBOX ${sha(message('old mail'))} [\\Seen] 2026-11-01T10:01:00.000Z`])
  })

  it('refuses a message file whose content is not the digest items.ndjson recorded, naming the file, and imports the rest', async () => {
    // A copy of the export gone bad (a flipped byte, a truncated file): importing it would put a mangled message on
    // the server as if it were the backed-up one.
    const alice = await bed.user('alice')
    const item = (id: string, file: string, content: Buffer) => JSON.stringify({
      id, type: 'message', folder: '2', folderPath: '/Inbox', flags: [String.raw`\Seen`], tags: [], metadata: {},
      digest: sha(content), size: content.length, file: path.join('Maildir', 'cur', file), firstSeen: '2026-11-01T10:01:00.000Z',
    }) + '\n'
    const good = '1793527260.301.carbonio-backup:2,S'
    const bad = '1793527260.302.carbonio-backup:2,S'
    const imported = await importHandMade(alice, [['', good, message('good')], ['', bad, message('damaged copy')]], item('301', good, message('good')) + item('302', bad, message('original')))
    assert.equal(imported.code, 1, imported.stderr)
    const [result] = JSON.parse(imported.stdout).result.accounts
    assert.equal(result.restored, 1)
    assert.equal(result.unrestoredMessages, 1)
    assert.equal(result.unrestoredItems[0].item, '302')
    assert.match(result.unrestoredItems[0].reason, new RegExp(`its Maildir file ${path.join('Maildir', 'cur', bad).replaceAll(/[.,]/g, String.raw`\$&`)} is not the content items.ndjson recorded`))
    const {messages} = await snapshot(await bed.client(alice))
    assert.deepEqual(messages, [`INBOX ${sha(message('good'))} [\\Seen] 2026-11-01T10:01:00.000Z`])
  })

  it('refuses bad input in one line, writing nothing', async () => {
    // A tree with one account's manifest is enough: the request is refused before anything reads the mail.
    const alice = `alice@${bed.domain}`
    mkdirSync(path.join(exportDir, alice, 'Maildir'), {recursive: true})
    writeFileSync(path.join(exportDir, alice, 'manifest.json'), JSON.stringify({formatVersion: 1, generator: 'carbonio-backup', account: alice}))
    const operations = await bed.t.catalog.db('operations').count({n: '*'}).first()
    const unknown = await runCli(['backup', 'doExternalRestore', exportDir, 'accounts', `nobody@${bed.domain}`], bed.t.env)
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stdout, '')
    assert.equal(unknown.stderr.trim(), `Error: account nobody@${bed.domain} is not in the export at ${exportDir}: it holds ${alice}`)
    const domain = await runCli(['backup', 'doExternalRestore', exportDir, 'domains', 'elsewhere.test'], bed.t.env)
    assert.equal(domain.code, 1)
    assert.match(domain.stderr, /^Error: no account of domain elsewhere.test is in the export/)
    const notTree = await runCli(['backup', 'doExternalRestore', path.join(exportDir, alice, 'Maildir'), '--json'], bed.t.env)
    assert.equal(notTree.code, 1)
    assert.match(JSON.parse(notTree.stdout).error.message, /is not a doExport tree: it has no <account>\/manifest.json/)
    assert.deepEqual(await bed.t.catalog.db('operations').count({n: '*'}).first(), operations)
  })
})
