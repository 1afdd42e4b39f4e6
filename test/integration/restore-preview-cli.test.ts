import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {JAN, snapshot} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {GLOBAL, type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

const subjects = (list: Array<{folderPath: string; subject: string}>) => list.map(m => `${m.folderPath} ${m.subject}`).sort()
const pause = (ms: number) => new Promise(resolve => {
  setTimeout(resolve, ms)
})

describe('backup getRestorePreview through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('lists exactly what a restore would add, what differs and what is live only, writing nothing anywhere', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {
      INBOX: [
        {raw: message('kept'), internalDate: JAN},
        {raw: message('flag me'), flags: [String.raw`\Seen`], internalDate: JAN},
        {raw: message('delete me'), internalDate: JAN},
      ],
      'Archive/2024': [{raw: message('old one'), internalDate: JAN}, {raw: message('old two'), internalDate: JAN}],
    })
    const scan = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(scan.code, 0, scan.stderr)
    await pause(20)
    const at = new Date().toISOString()
    await pause(20)

    // A mail client changes the mailbox after that moment.
    const client = await bed.client(alice)
    await client.mailboxOpen('INBOX')
    const uids = new Map<string, number>()
    for await (const m of client.fetch('1:*', {uid: true, envelope: true})) uids.set(m.envelope!.subject!, m.uid)
    await client.messageFlagsAdd(String(uids.get('flag me')), [String.raw`\Flagged`, '$Work'], {uid: true})
    await client.messageDelete(String(uids.get('delete me')), {uid: true})
    await client.mailboxClose()
    await client.append('INBOX', message('arrived later'), [], JAN)
    await client.mailboxDelete('Archive/2024')
    await client.mailboxCreate('New')
    await client.append('New', message('new folder mail'), [String.raw`\Seen`], JAN)
    assert.equal((await runCli(['backup', 'doAccountScan', alice], bed.t.env)).code, 0)
    const liveBefore = await snapshot(client)
    const revisions = await bed.t.catalog.db('item_revisions').count({n: '*'}).first()
    const operations = await bed.t.catalog.db('operations').count({n: '*'}).first()

    const json = await runCli(['backup', 'getRestorePreview', alice, at, '--json'], bed.t.env)
    assert.equal(json.code, 0, json.stderr)
    const preview = JSON.parse(json.stdout)
    assert.equal(preview.destination, alice)
    assert.equal(preview.destinationExists, true)
    assert.deepEqual(preview.backup, {folders: 2, messages: 5, otherItems: 0})
    assert.deepEqual(preview.live, {folders: 2, messages: 4})
    assert.deepEqual(preview.add.folders, ['/Archive/2024'])
    assert.deepEqual(subjects(preview.add.messages), ['/Archive/2024 old one', '/Archive/2024 old two', '/INBOX delete me'])
    assert.deepEqual(preview.differ.map((m: {flags: string[]; liveFlags: string[]; subject: string}) => [m.subject, m.flags, m.liveFlags]), [
      ['flag me', [String.raw`\Seen`], ['$Work', String.raw`\Flagged`, String.raw`\Seen`]],
    ])
    assert.deepEqual(preview.liveOnly.folders, ['/New'])
    assert.deepEqual(subjects(preview.liveOnly.messages), ['/INBOX arrived later', '/New new folder mail'])
    assert.equal(preview.unchanged, 1)

    const text = await runCli(['backup', 'getRestorePreview', alice, at], bed.t.env)
    assert.equal(text.code, 0, text.stderr)
    const lines = text.stdout.trim().split('\n')
    assert.equal(lines[0], `restore preview of ${alice} at ${at} into ${alice}: backup 5 messages in 2 folders, live 4 messages in 2 folders`)
    assert.ok(lines.includes('would add: 1 folders, 3 messages'), text.stdout)
    assert.ok(lines.includes('  + folder /Archive/2024'))
    assert.ok(lines.some(line => /^ {2}~ \/INBOX: "flag me" \(item \S+\) \[\\Seen] live \[\$Work \\Flagged \\Seen]$/.test(line)), text.stdout)
    assert.ok(lines.includes('live only: 1 folders, 2 messages (not there at that time: a restore leaves them alone)'))
    assert.ok(lines.some(line => /^ {2}- \/New: "new folder mail" \(uid \d+\) \[\\Seen]$/.test(line)), text.stdout)
    assert.equal(lines.at(-1), 'unchanged: 1 messages')

    // At the last state the backup and the mailbox agree; into a missing account everything would be added.
    const last = JSON.parse((await runCli(['backup', 'getRestorePreview', alice, 'last', '--json'], bed.t.env)).stdout)
    assert.deepEqual([last.add.messages.length, last.differ.length, last.liveOnly.messages.length, last.unchanged], [0, 0, 0, 4])
    const missing = JSON.parse((await runCli(['backup', 'getrestorepreview', alice, at, 'destination', `nobody@${bed.domain}`, '--json'], bed.t.env)).stdout)
    assert.equal(missing.destinationExists, false)
    assert.equal(missing.add.messages.length, 5)

    // Read-only: no flag (not even \Seen) changed on the server, no revision or operation in the catalog.
    assert.deepEqual(await snapshot(client), liveBefore)
    assert.deepEqual(await bed.t.catalog.db('item_revisions').count({n: '*'}).first(), revisions)
    assert.deepEqual(await bed.t.catalog.db('operations').count({n: '*'}).first(), operations)
  })

  it('in blobless mode lists a message gone from the AppServer as one a restore cannot add, not as one it would add', async () => {
    // Blobless mode keeps no content: a message expunged on the server since the scan cannot be restored, and the
    // restore says so; the preview promised it back.
    await setAttribute(bed.t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('kept'), internalDate: JAN}, {raw: message('gone'), internalDate: JAN}]})
    assert.equal((await runCli(['backup', 'doAccountScan', alice], bed.t.env)).code, 0)
    const client = await bed.client(alice)
    await client.mailboxOpen('INBOX')
    await client.messageDelete({header: {subject: 'gone'}})
    await client.mailboxClose()

    const at = new Date().toISOString()
    const json = await runCli(['backup', 'getRestorePreview', alice, at, '--json'], bed.t.env)
    assert.equal(json.code, 0, json.stderr)
    const preview = JSON.parse(json.stdout)
    assert.deepEqual(preview.add.messages, [])
    assert.deepEqual(subjects(preview.cannotAdd), ['/INBOX gone'])
    assert.match(preview.cannotAdd[0].reason, /blobless mode\) and is gone from the AppServer/)
    const text = await runCli(['backup', 'getRestorePreview', alice, at], bed.t.env)
    assert.ok(text.stdout.includes('would add: 0 folders, 0 messages\n'), text.stdout)
    assert.ok(text.stdout.includes('\ncannot add: 1 messages (their content is nowhere to read: a restore lists them as not restored)\n'), text.stdout)
    assert.match(text.stdout, /\n {2}! \/INBOX: "gone" \(item \S+\) \[\]: its content is not in the backup \(blobless mode\) and is gone from the AppServer\n/)
  })
})
