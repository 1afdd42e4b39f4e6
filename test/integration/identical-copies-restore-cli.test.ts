import assert from 'node:assert/strict'

import {JAN, messagesNow} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

// Two byte-identical messages of one folder are two messages: deleting one and bringing it back must leave two,
// whatever the one still there looks like, and a second run (before or after a SmartScan) must add nothing.
describe('doUndelete and doItemRestore of one of two identical messages, through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  const contents = (address: string) => messagesNow(bed, address)

  /** alice's INBOX holds the same message twice; once backed up, the second copy is expunged and that is scanned. */
  async function oneOfTwoDeleted(): Promise<{address: string; before: string[]}> {
    const address = await bed.user('alice')
    await bed.dovecot.loadMessages(address, {INBOX: [{raw: message('twice'), internalDate: JAN}, {raw: message('twice'), internalDate: JAN}]})
    await scanInProcess(bed, address)
    const before = await contents(address)
    assert.equal(before.length, 2)
    const client = await bed.client(address)
    await client.mailboxOpen('INBOX')
    await client.messageDelete('2', {uid: true})
    await bed.closeClients()
    await scanInProcess(bed, address)
    return {address, before}
  }

  it('doUndelete brings the deleted copy back next to the one kept', async () => {
    const {address, before} = await oneOfTwoDeleted()
    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--json'], bed.t.env)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(JSON.parse(run.stdout).result.restored, 1)
    assert.deepEqual(await contents(address), before)

    await scanInProcess(bed, address)
    const again = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--json'], bed.t.env)
    assert.equal(JSON.parse(again.stdout).result.restored, 0, again.stdout)
    assert.deepEqual(await contents(address), before)
  })

  it('doItemRestore brings the deleted copy back next to the one kept', async () => {
    const {address, before} = await oneOfTwoDeleted()
    const row = await bed.t.catalog.db('items as i').join('item_revisions as r', 'r.item_id', 'i.id')
    .whereNull('r.valid_to').where('r.deleted', true).first('i.remote_id')
    const run = await runCli(['backup', 'doItemRestore', address, row.remote_id, '--json'], bed.t.env)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(JSON.parse(run.stdout).result.restored, true)
    assert.deepEqual(await contents(address), before)

    await scanInProcess(bed, address)
    const again = await runCli(['backup', 'doItemRestore', address, row.remote_id, '--json'], bed.t.env)
    assert.equal(JSON.parse(again.stdout).result.restored, false, again.stdout)
    assert.deepEqual(await contents(address), before)
  })
})
