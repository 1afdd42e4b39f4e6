import assert from 'node:assert/strict'

import {sleep} from '../../src/engine/sleep.js'
import {loadCrashCorpus} from '../helpers/crash-corpus.js'
import {type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {elapsedLog, killedRuns, restoreKills} from '../helpers/killed-runs.js'
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
  const {int, mail} = seeded

  it('ends, after repeated kill -9 and re-runs (no force needed), with exactly the source as it was at the moment chosen', async () => {
    const log = elapsedLog()
    const {t} = bed
    const source = await bed.user('source')
    const destination = await bed.user('destination')
    const sourceClient = await loadCrashCorpus(bed, source, seeded, FOLDERS)

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

    // The restore of the whole account takes about a second here.
    for (const kill of restoreKills(int, [10, 60])) await runs.run(kill)

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
