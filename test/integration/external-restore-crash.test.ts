import assert from 'node:assert/strict'
import {
  mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {loadCrashCorpus} from '../helpers/crash-corpus.js'
import {GLOBAL, type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {elapsedLog, killedRuns, restoreKills} from '../helpers/killed-runs.js'
import {copiesPerFolder, keyOf, serverState} from '../helpers/mailbox-state.js'
import {randomMail} from '../helpers/random-mail.js'
import {runCli} from '../helpers/run-cli.js'

// Seeds the corpus and the kill moments; another one (EXTERNAL_RESTORE_CRASH_SEED) tries other moments.
const SEED = Number(process.env.EXTERNAL_RESTORE_CRASH_SEED ?? 20_261_130)
const FOLDERS: Record<string, number> = {'Archive/2025': 100, INBOX: 150, 'Lists/dev': 60}

/**
 * kill -9 of `backup doExternalRestore` at random moments while it imports a doExport tree into an account, each run
 * after the first completing what the killed ones left: then the account must hold what the exported one held, every
 * message once with its folder, flags, keywords, bytes and internal date, and the same message twice where it was
 * twice (what a killed run's MULTIAPPEND put in is skipped by the next run, not appended again).
 */
describe('external restore crash safety (kill -9 of doExternalRestore against Dovecot)', function () {
  this.timeout(180_000)
  let bed: ImapCliBed
  let work: string

  before(async () => {
    bed = await imapCliBed()
    work = mkdtempSync(path.join(tmpdir(), 'carbonio-external-crash-'))
  })

  after(async () => {
    await bed?.cleanup()
    rmSync(work, {force: true, recursive: true})
  })

  const seeded = randomMail(SEED, 'external-restore-crash.test')
  const {int} = seeded

  it('ends, after repeated kill -9 and re-runs, with exactly what the export holds, each message once', async () => {
    const log = elapsedLog()
    const {t} = bed
    const alice = await bed.user('alice')
    const aliceClient = await loadCrashCorpus(bed, alice, seeded, FOLDERS)
    const expected = await serverState(aliceClient)
    const scan = await runCli(['backup', 'doAccountScan', alice], t.env, 120_000)
    assert.equal(scan.code, 0, scan.stderr)
    const exportDir = path.join(work, 'export')
    const exported = await runCli(['backup', 'doExport', exportDir, 'accounts', alice], t.env, 120_000)
    assert.equal(exported.code, 0, exported.stderr)

    // Imported into another, empty account: the export's manifest names the account it goes into.
    const bob = await bed.user('bob')
    const tree = path.join(work, 'bob')
    renameSync(path.join(exportDir, alice), tree)
    const manifest = JSON.parse(readFileSync(path.join(tree, 'manifest.json'), 'utf8'))
    writeFileSync(path.join(tree, 'manifest.json'), JSON.stringify({...manifest, account: bob}))
    await setAttribute(t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'FALSE')
    log(`seed ${SEED}: ${expected.length} messages exported`)

    const args = ['backup', 'doExternalRestore', tree]
    const bobClient = await bed.client(bob)
    const runs = killedRuns({
      args, env: t.env, int, log, written: bobClient,
    })
    for (const kill of restoreKills(int, [10, 60])) await runs.run(kill)

    const final = await runCli(args, t.env, 120_000)
    assert.equal(final.code, 0, final.stderr)
    log(`final run: ${final.stdout.trim().split('\n').at(-1)}`)
    assert.ok(runs.kills >= 3, `only ${runs.kills} of the runs were killed: too few to mean anything`)

    const imported = await serverState(bobClient)
    assert.deepEqual(imported.map(m => keyOf(m)), expected.map(m => keyOf(m)), 'the account differs from the exported one')
    // Spelled out: a folder holds a message (Message-ID and content) as many times as the exported one did.
    assert.deepEqual(copiesPerFolder(imported), copiesPerFolder(expected))

    // Once more: nothing to add.
    const again = await runCli(args, t.env, 120_000)
    assert.equal(again.code, 0, again.stderr)
    assert.ok(again.stdout.includes(`${bob}: 0 restored, ${expected.length} skipped (already there), 0 unrestored in ${Object.keys(FOLDERS).length} folders`), again.stdout)
    await runs.assertInterrupted('doExternalRestore')
  })
})
