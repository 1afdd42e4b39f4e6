import assert from 'node:assert/strict'

import {sleep} from '../../src/engine/sleep.js'
import {type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {elapsedLog, type Kill, killedRuns} from '../helpers/killed-runs.js'
import {
  copiesPerFolder, inBox, keyOf, type LiveMessage, serverState,
} from '../helpers/mailbox-state.js'
import {randomMail} from '../helpers/random-mail.js'
import {runCli} from '../helpers/run-cli.js'

// Seeds the corpus and the kill moments; another one (RESTORE_CRASH_SEED) tries other moments.
const SEED = Number(process.env.RESTORE_CRASH_SEED ?? 20_261_127)
const FOLDERS: Record<string, number> = {
  'Archive/2025': 120, INBOX: 220, 'Lists/dev': 80, Sent: 40,
}

/**
 * kill -9 of `backup doRestoreOnNewAccount` at random moments, each run after the first completing what the killed
 * ones left; then the destination must hold exactly what the source held at the chosen moment: every message once,
 * with its folder, flags, keywords, bytes and internal date, none twice, none missing (the MULTIAPPEND of a killed
 * connection is all or nothing on the server, and what is there is skipped by the next run).
 */
describe('restore crash safety (kill -9 of doRestoreOnNewAccount against Dovecot)', function () {
  this.timeout(180_000)
  let bed: ImapCliBed

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    await bed?.cleanup()
  })

  const seeded = randomMail(SEED, 'restore-crash.test')
  const {int, mail, message} = seeded

  it('ends, after repeated kill -9 and re-runs (no force needed), with exactly the source as it was at the moment chosen', async () => {
    const log = elapsedLog()
    const {dovecot, t} = bed
    const source = await bed.user('source')
    const destination = await bed.user('destination')
    const folders = seeded.corpus(FOLDERS)

    // The same message twice in a folder stays two; two different messages with one Message-ID and one size (a
    // resent draft) are two messages, though a restore's check of what a folder holds cannot tell them apart.
    const twice = mail('twice', 3000)
    folders.INBOX.push(message(twice), message(twice))
    folders['Archive/2025'].push(message(mail('same-id', 0, 'a'.repeat(2000))), message(mail('same-id', 0, 'b'.repeat(2000))))
    await dovecot.loadMessages(source, folders)
    const sourceClient = await bed.client(source)
    await inBox(sourceClient, 'INBOX', () => sourceClient.messageFlagsAdd('1:25', ['$Work']))
    await inBox(sourceClient, 'Lists/dev', () => sourceClient.messageFlagsAdd('10:20', ['$Later', String.raw`\Flagged`]))

    const scan = await runCli(['backup', 'doAccountScan', source], t.env, 120_000)
    assert.equal(scan.code, 0, scan.stderr)
    const expected = await serverState(sourceClient)
    await sleep(20)
    const at = new Date().toISOString()
    await sleep(20)
    // After the moment chosen: what the restore must not bring.
    await inBox(sourceClient, 'INBOX', async () => {
      await sourceClient.messageDelete('1:15')
      await sourceClient.messageFlagsAdd('16:40', [String.raw`\Deleted`, '$Late'])
    })
    await inBox(sourceClient, 'Sent', () => sourceClient.messageMove('1:10', 'Archive/2025'))
    for (let i = 0; i < 12; i++) await sourceClient.append('Lists/dev', mail(`late-${i}`, 1500), [], new Date())
    const rescan = await runCli(['backup', 'doAccountScan', source], t.env, 120_000)
    assert.equal(rescan.code, 0, rescan.stderr)
    assert.notDeepEqual((await serverState(sourceClient)).map(m => keyOf(m)), expected.map(m => keyOf(m)))
    log(`seed ${SEED}: ${expected.length} messages at ${at}, changed since`)

    const destinationClient = await bed.client(destination)
    const args = (force: boolean) => ['backup', 'doRestoreOnNewAccount', source, destination, at, ...(force ? ['force', 'true'] : [])]
    // Each re-run, without force: the destination holds only what the killed run of the same restore put there.
    const runs = killedRuns({
      args: args(false), env: t.env, int, log, written: destinationClient,
    })

    // Seeded: early (the history read, the folders created, the first MULTIAPPEND in flight); then a run killed
    // after a few messages of its own, or after its first one; then at random. The restore of the whole account
    // takes about a second here.
    const plan: Kill[] = [
      {anchor: 'uuid', delay: [20, 200]},
      {anchor: 'appended', after: int(10, 60), delay: [0, 30]},
      {anchor: 'appended', after: 0, delay: [0, 10]},
      {anchor: 'uuid', delay: [0, 300]},
    ]
    for (const kill of plan) await runs.run(kill)

    const final = await runCli(args(false), t.env, 120_000)
    assert.equal(final.code, 0, final.stderr)
    log(`final run: ${final.stdout.trim().split('\n').at(-1)}`)
    assert.ok(runs.kills >= 3, `only ${runs.kills} of the runs were killed: too few to mean anything`)

    const restored: LiveMessage[] = await serverState(destinationClient)
    assert.deepEqual(restored.map(m => keyOf(m)), expected.map(m => keyOf(m)), `the destination differs from the source at ${at}`)
    // Spelled out: a folder holds a message (Message-ID and content) as many times as the source did.
    assert.deepEqual(copiesPerFolder(restored), copiesPerFolder(expected))

    // Once more: nothing to add.
    const again = await runCli(args(true), t.env, 120_000)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`: 0 restored, ${expected.length} skipped \\(already there\\), 0 unrestored in ${Object.keys(FOLDERS).length} folders`))

    // Every killed operation is Interrupted (exit code 4), unless the kill came after it had recorded its end.
    await runs.assertInterrupted('doRestoreOnNewAccount')

    // Completed, the restore is not run into the account again by default: it may hold the user's new mail by now.
    const refused = await runCli(args(false), t.env, 120_000)
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /is not empty .*add force true/)
    // However often it is asked: the refused run restored nothing that a next one would complete.
    const refusedAgain = await runCli(args(false), t.env, 120_000)
    assert.match(refusedAgain.stderr, /is not empty .*add force true/)
  })
})
