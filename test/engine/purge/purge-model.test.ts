import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {
  mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {PurgeReport} from '../../../src/engine/purge/purge.js'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {coherencyCheck} from '../../../src/engine/coherency/coherency-check.js'
import {UserError} from '../../../src/engine/errors.js'
import {stateAt} from '../../../src/engine/history/state-at.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {generateRedolog, mulberry32} from '../../../src/tools/redolog-generator.js'
import {ReferenceModel} from '../../../src/tools/reference-model.js'
import {comparableBackupItem, comparableItem} from '../../helpers/comparable-item.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {
  contextFor, DAY, purgeNow, SERVER, setGlobal,
} from './purge-fixture.js'

// Another list (PURGE_MODEL_SEEDS=3,4,5) tries other histories.
const SEEDS = (process.env.PURGE_MODEL_SEEDS ?? '5').split(',').map(Number)
const ITEM_DAYS = 30
const ACCOUNT_DAYS = 20

/**
 * Purge against an independent reference model of the same redolog: 60 days of random history (deletions, emptied
 * and deleted folders, copies sharing content, deleted accounts), a purge in the middle of it with the scanner then
 * going on (content purged and named again), and a second purge. From the cutoff on, every state must still be the
 * model's, with readable content; before it, an item is either whole or gone, and gone only if it was deleted then.
 */
for (const dialect of DIALECTS) {
  for (const seed of SEEDS) {
    describe(`purge against the reference model (${dialect}, seed ${seed})`, function () {
      this.timeout(240_000)
      let root: string
      let t: TestCatalog
      let model: ReferenceModel
      let first: number
      let last: number
      /** The second purge's clock: now. The first one's is 5 days earlier. */
      let purgeAt: number
      const reports: PurgeReport[] = []

      before(async () => {
        root = mkdtempSync(path.join(tmpdir(), 'cb-purge-model-'))
        const redologDir = path.join(root, 'redolog')
        model = new ReferenceModel()
        // Ending yesterday: the purge runs with the real clock, after the scanner referenced every blob.
        const endTime = Date.now() - DAY
        const summary = await generateRedolog({
          seed,
          accounts: 6,
          transactions: 5000,
          redologDir,
          storeDir: path.join(root, 'store'),
          blobSize: {min: 512, max: 4096},
          rotateEvery: 1700,
          startTime: endTime - (60 * DAY),
          endTime,
          mix: {
            'account.deleted': 0.3, 'folder.deleted': 3, 'folder.emptied': 3, 'item.copied': 20, 'item.deleted': 40,
          },
          onTransaction: tx => model.apply(tx),
        })
        first = Date.parse(summary.firstTime!)
        last = Date.parse(summary.lastTime!)
        t = await openTestCatalog(dialect)
        await setGlobal(t.catalog, 'backupAccountsRetentionDays', String(ACCOUNT_DAYS))
        const scan = () => runScanner({
          catalog: t.catalog, server: SERVER, feed: new RedologFeed(redologDir, {follow: false}), signal: new AbortController().signal,
        })
        // The first two files (days 1-41) are scanned and purged as of 5 days ago before the scanner reads the rest.
        const later = path.join(root, 'later')
        mkdirSync(later)
        for (const file of readdirSync(redologDir).sort().slice(2)) renameSync(path.join(redologDir, file), path.join(later, file))
        await scan()
        purgeAt = Date.now()
        const digests = async () => new Set<string>(await t.catalog.db('blobs').pluck('digest'))
        const beforePurge = await digests()
        reports.push(await purgeNow(t.catalog, {purgeDays: ITEM_DAYS, now: purgeAt - (5 * DAY), batchSize: 7}))
        const afterPurge = await digests()
        for (const file of readdirSync(later)) renameSync(path.join(later, file), path.join(redologDir, file))
        const rest = await scan()
        assert.equal(rest.errors, 0)
        const referencedAgain = [...await digests()].filter(digest => beforePurge.has(digest) && !afterPurge.has(digest))
        assert.ok(referencedAgain.length > 0, 'content the first purge removed is named again by the transactions after it')
        reports.push(await purgeNow(t.catalog, {purgeDays: ITEM_DAYS, now: purgeAt, batchSize: 7}))
      })

      after(async () => {
        await t?.cleanup()
        rmSync(root, {recursive: true, force: true})
      })

      it('removed deleted items, accounts and blobs in both purges', () => {
        for (const [index, report] of reports.entries()) {
          assert.ok(report.items > 10 && report.blobs > 5, `purge ${index + 1}: ${JSON.stringify(report)}`)
        }

        assert.ok(reports[0].items > 100, 'the first purge removed the bulk')
        assert.ok(reports[0].accounts > 0, 'a deleted account past its retention')
      })

      it('keeps every state from the cutoff on, and before it whole items only, with their content', async () => {
        const cutoff = purgeAt - (ITEM_DAYS * DAY)
        const accountCutoff = purgeAt - (ACCOUNT_DAYS * DAY)
        const random = mulberry32(seed)
        const moments = [...Array.from({length: 40}, () => first + Math.floor(random() * (last - first))), last]
        const blobs = new BlobStore(t.home)
        let compared = 0
        let gone = 0
        for (const at of moments) {
          for (const name of model.accountsAt(at)) {
            const where = `${name} at ${new Date(at).toISOString()}`
            const purgedAccount = at < accountCutoff && !model.accountsAt(accountCutoff).includes(name)
            const actual = await stateAt(t.catalog, name, at).catch(error => {
              if (purgedAccount && error instanceof UserError) return null
              throw error
            })
            if (actual === null || (purgedAccount && !actual.exists)) continue
            assert.ok(actual.exists, `${where} exists`)
            const items = new Map<string, unknown>()
            for await (const item of actual.items()) {
              items.set(item.id, comparableBackupItem(item))
              if (item.blobDigest) {
                const content = await blobs.get(item.blobDigest)
                assert.equal(createHash('sha256').update(content).digest('hex'), item.blobDigest, `content of ${item.id} of ${where}`)
              }
            }

            const liveAtCutoff = new Set(model.stateAt(name, cutoff)?.items.map(i => i.id))
            let goneHere = 0
            for (const expected of model.stateAt(name, at)!.items) {
              if (at < cutoff && !items.has(expected.id)) {
                assert.ok(!liveAtCutoff.has(expected.id), `item ${expected.id} of ${where}, still there at the cutoff, was purged`)
                goneHere++
                continue
              }

              assert.deepEqual(items.get(expected.id), comparableItem(expected), `item ${expected.id} of ${where}`)
              compared++
            }

            assert.equal(items.size + goneHere, model.stateAt(name, at)!.items.length, `number of live items of ${where}`)
            gone += goneHere
          }
        }

        assert.ok(compared > 1000 && gone > 100, `compared ${compared} item states, ${gone} purged: too few to mean anything`)
        const coherency = await coherencyCheck(contextFor(t.catalog))
        assert.equal(coherency.problems, 0, JSON.stringify(coherency.findings))
      })
    })
  }
}
