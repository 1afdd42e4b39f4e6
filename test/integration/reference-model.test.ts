import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {
  mkdtempSync, readdirSync, readFileSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {RedologFeed} from '../../src/engine/appserver/redolog/redolog-feed.js'
import {exportAccounts} from '../../src/engine/export/export-accounts.js'
import {planExport} from '../../src/engine/export/export-plan.js'
import {stateAt} from '../../src/engine/history/state-at.js'
import {runScanner} from '../../src/engine/scanner/realtime-scanner.js'
import {generateRedolog, mulberry32} from '../../src/tools/redolog-generator.js'
import {ReferenceModel} from '../../src/tools/reference-model.js'
import {comparableBackupItem, comparableItem} from '../helpers/comparable-item.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../helpers/test-catalog.js'

/**
 * The backup's point-in-time state against an independent reference model of the same redolog, at many random
 * moments: every live folder and item, with its folder, flags, tags, metadata and exact content digest.
 */
// REFERENCE_MODEL_SEED=21 generates another redolog (the same one for both dialects) and picks other moments.
const SEED_OVERRIDE = process.env.REFERENCE_MODEL_SEED === undefined ? undefined : Number(process.env.REFERENCE_MODEL_SEED)

for (const dialect of DIALECTS) {
  describe(`point-in-time states against the reference model (${dialect})`, function () {
    this.timeout(240_000)
    let root: string
    let t: TestCatalog
    let model: ReferenceModel
    let first: number
    let last: number

    before(async () => {
      root = mkdtempSync(path.join(tmpdir(), 'cb-model-'))
      const redologDir = path.join(root, 'redolog')
      model = new ReferenceModel()
      const summary = await generateRedolog({
        seed: SEED_OVERRIDE ?? (dialect === 'sqlite' ? 11 : 12),
        accounts: 6,
        transactions: 6000,
        redologDir,
        storeDir: path.join(root, 'store'),
        blobSize: {min: 1024, max: 8192},
        rotateEvery: 1700,
        onTransaction: tx => model.apply(tx),
      })
      first = Date.parse(summary.firstTime!)
      last = Date.parse(summary.lastTime!)
      t = await openTestCatalog(dialect)
      const totals = await runScanner({
        catalog: t.catalog, server: 'mail1', feed: new RedologFeed(redologDir, {follow: false}), signal: new AbortController().signal,
      })
      assert.equal(totals.transactions, 6000)
    })

    after(async () => {
      await t?.cleanup()
      rmSync(root, {recursive: true, force: true})
    })

    it('matches the model for every account at 40 random moments and at the very end', async () => {
      const random = mulberry32(SEED_OVERRIDE === undefined ? (dialect === 'sqlite' ? 99 : 100) : SEED_OVERRIDE + 88)
      const moments = [...Array.from({length: 40}, () => first + Math.floor(random() * (last - first))), last]
      let compared = 0
      for (const at of moments) {
        for (const name of model.accountsAt(at)) {
          const expected = model.stateAt(name, at)!
          const actual = await stateAt(t.catalog, name, at)
          assert.ok(actual.exists, `${name} exists at ${new Date(at).toISOString()}`)
          const where = `${name} at ${new Date(at).toISOString()}`
          assert.deepEqual(
            actual.folders.map(f => [f.id, f.path]).sort(),
            expected.folders.filter(f => !f.deleted).map(f => [f.id, f.path]).sort(),
            `folders of ${where}`,
          )
          const items = []
          for await (const item of actual.items()) items.push(comparableBackupItem(item))
          const expectedItems = expected.items.map(i => comparableItem(i))
          // Item by item, so that a failure names the item and shows only its difference.
          const actualById = new Map(items.map(item => [item.id, item]))
          for (const item of expectedItems) assert.deepEqual(actualById.get(item.id), item, `item ${item.id} of ${where}`)
          assert.equal(items.length, expectedItems.length, `number of live items of ${where}`)
          compared += items.length
        }
      }

      assert.ok(compared > 1000, `compared ${compared} item states: too few to mean anything`)
    })

    it('exports at 6 random moments what the model holds: every item, and each content file with its exact bytes', async () => {
      const random = mulberry32(dialect === 'sqlite' ? 7 : 8)
      let files = 0
      for (const [index, at] of Array.from({length: 6}, () => first + Math.floor(random() * (last - first))).entries()) {
        const target = path.join(root, `export-${index}`)
        const plan = await planExport(t.catalog, {path: target, point: {kind: 'at', at}})
        await exportAccounts({
          catalog: t.catalog, uuid: '00000000-0000-0000-0000-000000000000', server: 'mail1', signal: new AbortController().signal, progress() {},
        }, plan)
        const when = new Date(at).toISOString()
        assert.deepEqual(readdirSync(target).sort(), model.accountsAt(at).sort(), `the accounts exported at ${when}`)
        for (const name of model.accountsAt(at)) {
          const dir = path.join(target, name)
          const exported = readFileSync(path.join(dir, 'items.ndjson'), 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line))
          const where = `${name} exported at ${when}`
          assert.deepEqual(
            exported.map(item => comparableItem(item)).sort(byId),
            model.stateAt(name, at)!.items.map(item => comparableItem(item)).sort(byId),
            `the items of ${where}`,
          )
          for (const item of exported.filter(i => i.file)) {
            const bytes = readFileSync(path.join(dir, item.file))
            assert.equal(createHash('sha256').update(bytes).digest('hex'), item.digest, `${item.file} of ${where}`)
            if (item.type === 'message') assert.equal(item.file.split(':2,')[1], maildirFlags(item.flags), `the flags in ${item.file} of ${where}`)
            files++
          }
        }
      }

      assert.ok(files > 500, `checked ${files} exported files: too few to mean anything`)
    })
  })
}

function byId(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return String(a.id) < String(b.id) ? -1 : 1
}

/** The Maildir info letters of a message's system flags, in ASCII order as the specification wants. */
function maildirFlags(flags: readonly string[]): string {
  const letters: Record<string, string> = {
    '\\answered': 'R', '\\deleted': 'T', '\\draft': 'D', '\\flagged': 'F', '\\seen': 'S',
  }
  return flags.map(flag => letters[flag.toLowerCase()] ?? '').sort().join('')
}
