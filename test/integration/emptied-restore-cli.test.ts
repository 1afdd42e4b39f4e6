import assert from 'node:assert/strict'

import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

const ISO = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`

describe('backup doRestoreOnNewAccount at last of an account just emptied, through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('warns that the newest state is nearly empty and names the date before the mass deletion, which restores it all', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    const carol = await bed.user('carol')
    await dovecot.loadMessages(alice, {INBOX: ['a', 'b', 'c', 'd', 'e', 'f'].map(subject => ({raw: message(subject)}))})
    await scanInProcess(bed, alice)
    const client = await bed.client(alice)
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('1:5', {uid: true})
    } finally {
      await bed.closeClients()
    }

    await scanInProcess(bed, alice)

    const text = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(text.code, 0, text.stderr)
    const warning = new RegExp(`^WARNING the newest state of ${alice} is nearly empty \\(1 item\\): 5 of its 6 items were deleted `
      + `from ${ISO} to ${ISO}; the last moment before that is (${ISO}): to restore it, give the date (${ISO}) instead of last$`, 'm')
    const match = warning.exec(text.stdout)
    assert.ok(match, text.stdout)
    assert.equal(match[1], match[2])
    assert.match(text.stdout, /: 1 restored, 0 skipped/)

    const json = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last', 'force', 'true', '--json'], t.env)
    assert.equal(json.code, 0, json.stderr)
    const {emptied} = JSON.parse(json.stdout).result
    assert.equal(emptied.lastMomentBefore, match[1])
    assert.deepEqual({remaining: emptied.remaining, itemsBefore: emptied.itemsBefore, deleted: emptied.deleted}, {remaining: 1, itemsBefore: 6, deleted: 5})

    const before = await runCli(['backup', 'doRestoreOnNewAccount', alice, carol, match[2], '--json'], t.env)
    assert.equal(before.code, 0, before.stderr)
    const {result} = JSON.parse(before.stdout)
    assert.equal(result.restored, 6)
    assert.equal(result.emptied, null)
  })
})
