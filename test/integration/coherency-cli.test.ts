import assert from 'node:assert/strict'
import {
  existsSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {FINDING_KINDS} from '../../src/engine/coherency/findings.js'
import {
  ALICE, BOB, catchUp, type CoherencyScenario, writeCoherencyScenario,
} from '../engine/coherency/coherency-scenario.js'
import {runCli, UUID} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'

/** doCoherencyCheck through the real CLI (bin/run.js, compiled dist/: npm run build first) on a SQLite catalog. */
describe('backup doCoherencyCheck from the command line', function () {
  this.timeout(120_000)
  let t: TestCatalog
  let scenario: CoherencyScenario
  let env: NodeJS.ProcessEnv

  before(async () => {
    t = await openTestCatalog('sqlite')
    const written = writeCoherencyScenario(t.home)
    scenario = written.scenario
    await catchUp(t.catalog, written.log)
    env = {...t.env, CARBONIO_BACKUP_SERVER: 'mail1'}
  })

  after(async () => {
    await t.cleanup()
  })

  const blobFile = (digest: string) => path.join(t.home, 'items', digest.slice(0, 2), digest)
  const operations = async () => Number((await t.catalog.db('operations').count({n: '*'}))[0].n)

  it('--json on a healthy backup: exit 0, the operation view with the report as result, nothing else on stdout', async () => {
    const result = await runCli(['backup', 'doCoherencyCheck', '--json'], env)
    assert.equal(result.code, 0, result.stderr)
    const view = JSON.parse(result.stdout)
    assert.match(view.uuid, UUID)
    assert.equal(view.type, 'doCoherencyCheck')
    assert.equal(view.state, 'completed')
    assert.equal(view.exitCode, 0)
    assert.deepEqual(view.parameters, {accounts: null, fixBackup: false})
    const report = view.result
    assert.deepEqual(Object.keys(report).sort(), ['accounts', 'checked', 'coherent', 'findings', 'fixBackup', 'fixed', 'notChecked', 'problems', 'startedAt'])
    assert.equal(report.coherent, true)
    assert.equal(report.problems, 0)
    assert.equal(report.fixed, null)
    assert.deepEqual(Object.keys(report.findings).sort(), [...FINDING_KINDS].sort())
    for (const kind of FINDING_KINDS) assert.deepEqual(report.findings[kind], {count: 0, first: []}, kind)
    assert.equal(report.checked.blobsVerified, scenario.stored.size)
    assert.equal(report.checked.accounts, 2)
    assert.equal(result.stderr, '', 'no progress under --json')
  })

  it('names a corrupt and a missing blob with account and item in readable lines; fixBackup true quarantines and a second check is clean', async () => {
    const [corrupt, missing] = [...scenario.stored.keys()].filter(d => scenario.stored.get(d)!.items.length === 1)
    const bytes = readFileSync(blobFile(corrupt))
    bytes[bytes.length - 3] ^= 0x55
    writeFileSync(blobFile(corrupt), bytes)
    rmSync(blobFile(missing))

    const found = await runCli(['backup', 'doCoherencyCheck'], env)
    assert.equal(found.code, 0, 'the check itself succeeded, whatever it found')
    const lines = found.stdout.trim().split('\n')
    assert.match(lines[0], UUID)
    const [who] = scenario.stored.get(corrupt)!.items
    const [whoLost] = scenario.stored.get(missing)!.items
    assert.ok(lines.includes('corrupt blobs (content does not gunzip or does not hash to its name): 1'), found.stdout)
    assert.ok(lines.some(l => l.startsWith(`  ${who.account} item ${who.item} items/${corrupt.slice(0, 2)}/${corrupt}: `)), found.stdout)
    assert.ok(lines.includes('missing blobs (recorded as stored, no file): 1'), found.stdout)
    assert.ok(lines.some(l => l.startsWith(`  ${whoLost.account} item ${whoLost.item} items/${missing.slice(0, 2)}/${missing}: `)), found.stdout)
    assert.equal(lines.at(-1), 'the backup is NOT coherent: 2 problem(s); fixBackup true repairs what can be repaired')
    assert.match(found.stderr, new RegExp(`${ALICE}: revisions \\(account 1 of 2\\)`), 'progress names the account')
    assert.match(found.stderr, new RegExp(`${BOB}: revisions \\(account 2 of 2\\)`))

    const fixed = await runCli(['backup', 'doCoherencyCheck', 'fixBackup', 'true', '--json'], env)
    assert.equal(fixed.code, 0, fixed.stderr)
    const view = JSON.parse(fixed.stdout)
    assert.deepEqual(view.parameters, {accounts: null, fixBackup: true})
    assert.equal(view.result.fixed.filesQuarantined, 1)
    assert.equal(view.result.fixed.blobsMarkedNotStored, 2)
    assert.deepEqual(view.result.fixed.itemsThatLostContent.first.map((i: any) => [i.account, i.item]).sort(), [[who.account, who.item], [whoLost.account, whoLost.item]].sort())
    assert.ok(existsSync(path.join(t.home, view.result.fixed.quarantine, 'items', corrupt.slice(0, 2), corrupt)))
    assert.equal(existsSync(blobFile(corrupt)), false)

    const again = await runCli(['backup', 'doCoherencyCheck', 'accounts', `${BOB},${ALICE}`, '--json'], env)
    assert.equal(again.code, 0, again.stderr)
    const clean = JSON.parse(again.stdout)
    assert.deepEqual(clean.parameters, {accounts: [BOB, ALICE], fixBackup: false})
    assert.equal(clean.result.coherent, true)
    assert.equal(clean.result.notChecked.length, 1)
  })

  it('refuses an unknown account or a bad boolean before any operation is created', async () => {
    const before = await operations()
    const unknown = await runCli(['backup', 'doCoherencyCheck', 'accounts', 'nobody@example.com'], env)
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stdout, '')
    assert.equal(unknown.stderr.trim(), 'Error: account nobody@example.com is not in the backup (did you mean bob@example.com?): carbonio backup getAvailableAccounts lists the accounts it holds')
    const bad = await runCli(['backup', 'doCoherencyCheck', 'fixBackup', 'maybe'], env)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /fixBackup must be true or false/)
    assert.equal(await operations(), before)
  })
})
