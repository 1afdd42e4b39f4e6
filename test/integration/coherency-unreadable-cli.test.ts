import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {catchUp, type CoherencyScenario, writeCoherencyScenario} from '../engine/coherency/coherency-scenario.js'
import {
  type CliResult, startCli, startCliAs, waitFor,
} from '../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'

// Root reads any file whatever its mode: as root, the backup is handed to nobody and the CLI runs as nobody.
const NOBODY = 65_534
const asRoot = process.getuid?.() === 0

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = asRoot ? startCliAs({uid: NOBODY, gid: NOBODY}, args, env) : startCli(args, env)
  return waitFor(child)
}

/** A blob file whose mode was changed so that the backup may not read it: one finding, not a failed check. */
describe('backup doCoherencyCheck with a blob file the backup may not read', function () {
  this.timeout(60_000)
  let t: TestCatalog
  let scenario: CoherencyScenario
  let unreadable = ''
  let userHome: string

  before(async () => {
    t = await openTestCatalog('sqlite')
    // The CLI's own data directory (oclif) must be the user's: root's would be refused to nobody.
    userHome = mkdtempSync(path.join(tmpdir(), 'cb-unreadable-user-'))
    const written = writeCoherencyScenario(t.home)
    scenario = written.scenario
    await catchUp(t.catalog, written.log)
    if (asRoot) assert.equal(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, t.home, userHome]).status, 0)
  })

  after(async () => {
    if (unreadable) chmodSync(unreadable, 0o600)
    await t.cleanup()
    rmSync(userHome, {recursive: true, force: true})
  })

  it('reports it as damaged with its item, checks everything else, and exits 0', async () => {
    const digest = [...scenario.stored.keys()].find(d => scenario.stored.get(d)!.items.length === 1)!
    unreadable = path.join(t.home, 'items', digest.slice(0, 2), digest)
    chmodSync(unreadable, 0)

    const result = await runCli(['backup', 'doCoherencyCheck', '--json'], {...t.env, CARBONIO_BACKUP_SERVER: 'mail1', HOME: userHome})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '')
    const report = JSON.parse(result.stdout).result
    assert.equal(report.findings.corruptBlobs.count, 1)
    const [finding] = report.findings.corruptBlobs.first
    const [who] = scenario.stored.get(digest)!.items
    assert.deepEqual([finding.account, finding.item, finding.digest], [who.account, who.item, digest])
    assert.match(finding.detail, /^cannot be read \(EACCES\): check the owner and mode/)
    assert.equal(report.problems, 1)
    assert.equal(report.checked.blobsVerified, scenario.stored.size)
  })
})
