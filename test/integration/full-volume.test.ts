import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {
  mkdirSync, readdirSync, statfsSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {generateRedolog} from '../../src/tools/redolog-generator.js'
import {snapshotOfHome} from '../helpers/catalog-snapshot.js'
import {runCli} from '../helpers/run-cli.js'
import {mountSmallVolume, type SmallVolume} from '../helpers/small-volume.js'

/**
 * The backup's volume fills up while the scanner catches up: one line naming the backup path and the fix, a
 * non-zero exit, and once space is freed the next run ends in exactly the state of a run that had room all along.
 * A small tmpfs is the full volume, so this needs root (as CI runs) and a kernel that lets it mount one.
 */
describe('a full backup volume', function () {
  this.timeout(120_000)
  let small: SmallVolume | undefined
  let root: string
  let volume: string
  let redologDir: string

  before(async function () {
    small = mountSmallVolume(this, 'cb-full-', '3m')
    root = small.root
    volume = small.volume

    redologDir = path.join(root, 'appserver', 'redolog')
    await generateRedolog({
      seed: 3, accounts: 5, transactions: 3000, redologDir, storeDir: path.join(root, 'appserver', 'store'), blobSize: {min: 2048, max: 24_576},
    })
  })

  after(() => {
    small?.remove()
  })

  async function ingest(home: string): Promise<{code: null | number; stderr: string}> {
    const env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1'}
    const set = await runCli(['config', 'set', 'server', 'mail1', 'backupRedologPath', redologDir], env)
    if (set.code !== 0) return set
    return runCli(['backup', 'daemon', 'once', 'true'], env, 60_000)
  }

  it('says so in one line, keeps nothing half-written, and resumes to the same state once there is room', async () => {
    const home = path.join(volume, 'backup')
    const full = await ingest(home)
    assert.equal(full.code, 1, full.stderr)
    const said = `the backup at ${home} is out of space (`
    assert.ok(full.stderr.startsWith(`Error: ${said}`), full.stderr)
    assert.match(full.stderr, /\((ENOSPC|SQLITE_IOERR)[^)]*\): free space on its volume, or move the backup to a larger one \(and point CARBONIO_BACKUP_HOME there\); then run again/)
    assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr)
    // No blob under a temporary name is left behind by the failed writes.
    const leftovers = readdirSync(path.join(home, 'items'), {recursive: true}).filter(name => String(name).includes('.tmp-'))
    assert.deepEqual(leftovers, [])

    assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', volume]).status, 0)
    const resumed = await ingest(home)
    assert.equal(resumed.code, 0, resumed.stderr)
    const roomy = path.join(root, 'roomy')
    const reference = await ingest(roomy)
    assert.equal(reference.code, 0, reference.stderr)
    assert.deepEqual(await snapshotOfHome({CARBONIO_BACKUP_HOME: home}), await snapshotOfHome({CARBONIO_BACKUP_HOME: roomy}))
  })

  it('stops capturing short of the volume\'s last bytes, so that doPurge and restores can still open the catalog', async () => {
    const roomy = path.join(root, 'headroom')
    mkdirSync(roomy)
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', roomy]).status, 0)
    try {
      // All but 3 MiB taken by something else: the capture fills the rest, down to what it keeps free (2% here).
      const {bavail, bsize} = statfsSync(roomy)
      writeFileSync(path.join(roomy, 'other-data'), Buffer.alloc((bavail * bsize) - (3 * 1024 * 1024)))
      const home = path.join(roomy, 'backup')
      const stopped = await ingest(home)
      assert.equal(stopped.code, 1, stopped.stderr)
      assert.match(stopped.stderr, /is out of space \(ENOSPC: \d+ KiB left, under the \d+ KiB kept free for doPurge and restores\)/)
      const env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1'}
      for (const command of [['backup', 'getBackupInfo'], ['backup', 'doPurge'], ['backup', 'getAvailableAccounts']]) {
        const run = await runCli(command, env, 60_000)
        assert.equal(run.code, 0, `${command.join(' ')}: ${run.stderr}`)
      }
    } finally {
      spawnSync('umount', [roomy])
    }
  })
})
