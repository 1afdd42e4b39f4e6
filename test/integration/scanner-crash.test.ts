import assert from 'node:assert/strict'
import {
  existsSync, mkdtempSync, readdirSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobStore} from '../../src/engine/blobstore/blob-store.js'
import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {generateRedolog, mulberry32} from '../../src/tools/redolog-generator.js'
import {snapshotOfHome as snapshot} from '../helpers/catalog-snapshot.js'
import {runCli, startCli, waitFor} from '../helpers/run-cli.js'

/**
 * kill -9 at random moments while the scanner catches up, again and again, then compare with a run that was
 * never interrupted: nothing lost, nothing applied twice, no blob half-written under its real name.
 */
describe('Realtime Scanner crash safety', function () {
  this.timeout(300_000)
  let root: string
  let redologDir: string

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cb-crash-'))
    redologDir = path.join(root, 'appserver', 'redolog')
    await generateRedolog({
      seed: 20_261_126,
      accounts: 12,
      transactions: 12_000,
      redologDir,
      storeDir: path.join(root, 'appserver', 'store'),
      blobSize: {min: 2048, max: 24_576},
      rotateEvery: 2500,
    })
  })

  after(() => rmSync(root, {recursive: true, force: true}))

  async function home(name: string): Promise<NodeJS.ProcessEnv> {
    const env = {CARBONIO_BACKUP_HOME: path.join(root, name), CARBONIO_BACKUP_SERVER: 'mail1'}
    const set = await runCli(['config', 'set', 'server', 'mail1', 'backupRedologPath', redologDir], env)
    assert.equal(set.code, 0, set.stderr)
    return env
  }

  it('ends in exactly the state of an uninterrupted run after repeated kill -9', async () => {
    const reference = await home('reference')
    const straight = await runCli(['backup', 'daemon', 'once', 'true', '--json'], reference, 240_000)
    assert.equal(straight.code, 0, straight.stderr)
    assert.equal(JSON.parse(straight.stdout).transactions, 12_000)

    const crashed = await home('crashed')
    const random = mulberry32(42)
    let kills = 0
    let finished = false
    for (let attempt = 0; attempt < 60 && !finished; attempt++) {
      const child = startCli(['backup', 'daemon', 'once', 'true', '--json'], crashed)
      // Random kill moments, later with every attempt: on a slow or busy machine a batch may take longer than
      // the first delays, and each attempt must eventually get to commit something.
      const delay = 300 + Math.floor(random() * 1500) + (attempt * 400)
      const timer = setTimeout(() => child.kill('SIGKILL'), delay)
      const result = await waitFor(child, 240_000)
      clearTimeout(timer)
      if (result.signal === 'SIGKILL') {
        kills++
      } else {
        assert.equal(result.code, 0, result.stderr)
        finished = true
      }
    }

    assert.ok(finished, 'the scanner eventually caught up')
    assert.ok(kills >= 3, `killed ${kills} times: too few to mean anything`)
    assert.deepEqual(await snapshot(crashed), await snapshot(reference))

    // Every blob the catalog says is stored is whole under its real name.
    const catalog = await openCatalog({env: crashed})
    try {
      const blobs = new BlobStore(path.join(root, 'crashed'))
      for (const {digest} of await catalog.db('blobs').where({stored: true}).select('digest')) {
        await blobs.get(digest)
      }
    } finally {
      await catalog.close()
    }

    const items = path.join(root, 'crashed', 'items')
    if (existsSync(items)) {
      for (const dir of readdirSync(items)) {
        for (const name of readdirSync(path.join(items, dir))) {
          if (name.startsWith('.tmp-')) continue
          assert.match(name, /^[0-9a-f]{64}$/)
        }
      }
    }
  })
})
