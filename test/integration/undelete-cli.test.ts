import assert from 'node:assert/strict'

import {
  JAN, messagesNow, sha, snapshot,
} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli, UUID} from '../helpers/run-cli.js'

/** Today on this machine's clock, as the "Undeleted <day>" folder is named. */
const localDay = () => new Intl.DateTimeFormat('en-CA').format(new Date())

describe('backup doUndelete through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  const contents = (address: string) => messagesNow(bed, address)

  /**
   * An account with INBOX (one, two \Seen, three \Flagged $Work) and Work/Plans (plan), scanned; then, by another
   * client, "two" expunged and Work/Plans deleted, and scanned again. Returns the address, that client and what the
   * mailbox held before the deletions.
   */
  async function deletedAfterScan(): Promise<{address: string; before: string[]}> {
    const address = await bed.user('alice')
    await bed.dovecot.loadMessages(address, {
      INBOX: [
        {raw: message('one'), internalDate: JAN},
        {raw: message('two'), flags: [String.raw`\Seen`], internalDate: JAN},
        {raw: message('three'), flags: [String.raw`\Flagged`, '$Work'], internalDate: JAN},
      ],
      'Work/Plans': [{raw: message('plan'), flags: [String.raw`\Answered`], internalDate: JAN}],
    })
    await scanInProcess(bed, address)
    const client = await bed.client(address)
    const {messages: before} = await snapshot(client)
    try {
      await client.mailboxOpen('INBOX')
      await client.messageDelete('2', {uid: true})
      await client.mailboxClose()
      await client.mailboxDelete('Work/Plans')
    } finally {
      await bed.closeClients()
    }

    await scanInProcess(bed, address)
    return {address, before}
  }

  it('puts the deleted messages back into their original folders, byte-identical, and a second run adds nothing', async () => {
    const {address, before} = await deletedAfterScan()
    assert.equal((await contents(address)).length, 2)

    const json = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--json'], bed.t.env)
    assert.equal(json.code, 0, json.stderr)
    const view = JSON.parse(json.stdout)
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.result.deleted, 2)
    assert.equal(view.result.restored, 2)
    assert.equal(view.result.skipped, 0)
    assert.equal(view.result.targetOriginalFolder, true)
    assert.deepEqual(await contents(address), before)

    const again = await runCli(['backup', 'doundelete', address, 'first', 'last'], bed.t.env)
    assert.equal(again.code, 0, again.stderr)
    const [uuid, ...lines] = again.stdout.trim().split('\n')
    assert.match(uuid, UUID)
    assert.deepEqual(lines, [`undeleted ${address} from first to last into their original folders: 2 deleted, 0 restored, 2 skipped (still there), 0 unrestored in 0 folders`])
    assert.deepEqual(await contents(address), before)
  })

  it('puts a message back into its folder renamed since (a parent renamed), not into a folder of the old name', async () => {
    const address = await bed.user('alice')
    await bed.dovecot.loadMessages(address, {'Work/Old': [{raw: message('gone'), internalDate: JAN}, {raw: message('kept'), internalDate: JAN}]})
    await scanInProcess(bed, address)
    const client = await bed.client(address)
    await client.mailboxOpen('Work/Old')
    await client.messageDelete('1', {uid: true})
    await bed.closeClients()
    await scanInProcess(bed, address)
    // After the deletion the user renames the parent folder: the deleted message's folder is now Projects/Old.
    await (await bed.client(address)).mailboxRename('Work', 'Projects')
    await bed.closeClients()
    await scanInProcess(bed, address)

    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--json'], bed.t.env)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(JSON.parse(run.stdout).result.restored, 1)
    assert.deepEqual((await contents(address)).map(line => line.split(' ').slice(0, 2).join(' ')), [
      `Projects/Old ${sha(message('gone'))}`, `Projects/Old ${sha(message('kept'))}`,
    ].sort())
  })

  it('names the "Undeleted <day>" folder after the day on the server\'s clock, not the UTC day', async () => {
    const {address} = await deletedAfterScan()
    // A zone whose day is not the UTC day right now: 14 hours ahead from 10:00 UTC, else 11 hours behind.
    const now = new Date()
    const TZ = now.getUTCHours() >= 10 ? 'Pacific/Kiritimati' : 'Pacific/Pago_Pago'
    const serverDay = new Intl.DateTimeFormat('en-CA', {timeZone: TZ}).format(now)
    assert.notEqual(serverDay, now.toISOString().slice(0, 10))
    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', 'target_original_folder', 'false', '--json'], {...bed.t.env, TZ})
    assert.equal(run.code, 0, run.stderr)
    assert.equal(JSON.parse(run.stdout).result.undeletedFolder, `/Undeleted ${serverDay}`)
  })

  it('with target_original_folder false, a folder the server will not create under "Undeleted <day>" is listed and the others come back', async () => {
    // 245 characters is a name this Dovecot keeps, but not with "Undeleted <day>/" in front (one Maildir++ directory).
    const long = 'N'.repeat(245)
    const address = await bed.user('alice')
    await bed.dovecot.loadMessages(address, {[long]: [{raw: message('in long'), internalDate: JAN}], Short: [{raw: message('in short'), internalDate: JAN}]})
    await scanInProcess(bed, address)
    const client = await bed.client(address)
    for (const folder of [long, 'Short']) {
      await client.mailboxOpen(folder)
      await client.messageDelete('1:*')
    }

    await bed.closeClients()
    await scanInProcess(bed, address)
    const day = localDay()
    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', 'target_original_folder', 'false', '--json'], bed.t.env)
    assert.equal(run.code, 1, run.stderr)
    const {result} = JSON.parse(run.stdout)
    assert.equal(result.restored, 1)
    assert.equal(result.unrestored, 1)
    assert.equal(result.unrestoredItems[0].folderPath, `/${long}`)
    assert.match(result.unrestoredItems[0].reason, new RegExp(`would not create the folder /Undeleted ${day}/${long} in ${address}`))
    assert.deepEqual((await contents(address)).map(line => line.split(' ').slice(0, 3).join(' ')), [`Undeleted ${day}/Short ${sha(message('in short'))}`])
  })

  it('with target_original_folder false puts them under "Undeleted <day>", and refuses a window backwards', async () => {
    const {address, before} = await deletedAfterScan()
    const day = localDay()
    const run = await runCli(['backup', 'doUndelete', address, 'first', 'last', 'target_original_folder', 'false'], bed.t.env)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, new RegExp(`into /Undeleted ${day}: 2 deleted, 2 restored, 0 skipped`))
    const kept = before.filter(line => line.includes(sha(message('one'))) || line.includes(sha(message('three'))))
    const back = before.filter(line => !kept.includes(line)).map(line => `Undeleted ${day}/${line}`)
    assert.deepEqual(await contents(address), [...kept, ...back].sort())

    const again = await runCli(['backup', 'doUndelete', address, 'first', 'last', '--target_original_folder=false', '--json'], bed.t.env)
    assert.equal(JSON.parse(again.stdout).result.restored, 0)
    assert.equal((await contents(address)).length, 4)

    const backwards = await runCli(['backup', 'doUndelete', address, 'last', 'first'], bed.t.env)
    assert.equal(backwards.code, 2)
    assert.match(backwards.stderr, /start takes a date or first, not 'last'/)
    // Two dates the wrong way round: a usage error before any operation, not a Failed operation.
    const operations = JSON.parse((await runCli(['backup', 'getAllOperations', '--json'], bed.t.env)).stdout).operations.length
    const reversed = await runCli(['backup', 'doUndelete', address, '2026-11-02T00:00:00Z', '2026-11-01T00:00:00Z'], bed.t.env)
    assert.equal(reversed.code, 2)
    assert.equal(reversed.stdout, '')
    assert.equal(reversed.stderr.split('\n')[0], 'Error: the start 2026-11-02T00:00:00.000Z is after the end 2026-11-01T00:00:00.000Z: give the earlier date first')
    assert.equal(JSON.parse((await runCli(['backup', 'getAllOperations', '--json'], bed.t.env)).stdout).operations.length, operations)
  })
})
