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

// Seeds the corpus and the kill moments; another one (UNDELETE_CRASH_SEED) tries other moments.
const SEED = Number(process.env.UNDELETE_CRASH_SEED ?? 20_261_129)
const FOLDERS: Record<string, number> = {'Archive/2025': 100, INBOX: 160, 'Lists/dev': 60}

/**
 * kill -9 of `backup doUndelete` at random moments, each run after the first completing what the killed ones left,
 * into the account the user goes on using: then the account must hold every message the window deleted once more,
 * in its folder (a folder deleted with its mail made again), with its flags, bytes and internal date, and the mail
 * that stayed or came since once, none twice (the MULTIAPPEND of a killed connection is all or nothing on the server,
 * and what a killed run put back is taken for the deleted message by the next run, not for a copy still there).
 */
describe('undelete crash safety (kill -9 of doUndelete against Dovecot)', function () {
  this.timeout(180_000)
  let bed: ImapCliBed

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    await bed?.cleanup()
  })

  const seeded = randomMail(SEED, 'undelete-crash.test')
  const {int, mail} = seeded

  it('ends, after repeated kill -9 and re-runs, with every message the window deleted back once', async () => {
    const log = elapsedLog()
    const {t} = bed
    const account = await bed.user('undeleted')
    // With the same message twice in INBOX, one of them deleted below: the undelete must bring that one back beside
    // the other, and a re-run must not take the one it put back for the copy that stayed, nor add a third.
    const client = await loadCrashCorpus(bed, account, seeded, FOLDERS)

    const scan = await runCli(['backup', 'doAccountScan', account], t.env, 120_000)
    assert.equal(scan.code, 0, scan.stderr)
    await sleep(20)
    const start = new Date().toISOString()
    await sleep(20)
    // The user's new mail, after the window began, deleted by no one: it stays, once.
    for (let i = 0; i < 8; i++) await client.append('INBOX', mail(`new-${i}`, 1500), [], new Date())
    const expected = await serverState(client)
    // Deleted in the window: messages here and there, one copy of the pair, and a folder with all its mail.
    await inBox(client, 'INBOX', async () => {
      const pair = await client.search({header: {'message-id': '<twice@undelete-crash.test>'}}, {uid: true}) || []
      assert.equal(pair.length, 2)
      // Ascending: the messages loaded first, then the new mail, which stays.
      const loaded = (await client.search({all: true}, {uid: true}) || []).filter(uid => !pair.includes(uid))
      await client.messageDelete([...loaded.slice(0, 51), Math.max(...pair)].join(','), {uid: true})
    })
    await inBox(client, 'Archive/2025', () => client.messageDelete('1:40'))
    await client.mailboxDelete('Lists/dev')
    const rescan = await runCli(['backup', 'doAccountScan', account], t.env, 120_000)
    assert.equal(rescan.code, 0, rescan.stderr)
    await sleep(20)
    const end = new Date().toISOString()
    const deleted = expected.length - (await serverState(client)).length
    assert.equal(deleted, 52 + 40 + 60)
    log(`seed ${SEED}: ${deleted} of ${expected.length} messages deleted between ${start} and ${end}`)

    const args = ['backup', 'doUndelete', account, start, end]
    const runs = killedRuns({
      args, env: t.env, int, log, written: client,
    })
    for (const kill of restoreKills(int, [10, 40])) await runs.run(kill)

    const final = await runCli(args, t.env, 120_000)
    assert.equal(final.code, 0, final.stderr)
    log(`final run: ${final.stdout.trim().split('\n').at(-1)}`)
    assert.ok(runs.kills >= 3, `only ${runs.kills} of the runs were killed: too few to mean anything`)

    const undeleted: LiveMessage[] = await serverState(client)
    assert.deepEqual(undeleted.map(m => keyOf(m)), expected.map(m => keyOf(m)), 'the account differs from what it held before the deletions')
    // Spelled out: a folder holds a message (Message-ID and content) as many times as it did.
    assert.deepEqual(copiesPerFolder(undeleted), copiesPerFolder(expected))

    // Once more: nothing to add.
    const again = await runCli(args, t.env, 120_000)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`: ${deleted} deleted, 0 restored, ${deleted} skipped \\(still there\\), 0 unrestored`))
    await runs.assertInterrupted('doUndelete')
  })
})
