import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdirSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {verifyBlobFile} from '../../../src/engine/coherency/verify-blob.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {
  ALICE, check, sha256, T0,
} from './coherency-scenario.js'

const ROUNDS = 12
const PER_ROUND = 40

for (const dialect of DIALECTS) {
  describe(`doCoherencyCheck fixBackup while the scanner runs (${dialect})`, function () {
    this.timeout(180_000)
    let t: TestCatalog

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    it('never quarantines a file that a scanner batch is adding a reference to: every stored blob row keeps its file', async () => {
      const log = new RedologWriter(path.join(t.home, 'appserver', 'redolog'))
      const store = path.join(t.home, 'appserver', 'store')
      mkdirSync(store, {recursive: true})
      log.write(ALICE, 'account.created', {}, T0)
      const scan = () => runScanner({
        catalog: t.catalog, server: 'mail1', feed: new RedologFeed(log.dir, {follow: false, maxEntries: 4}), signal: new AbortController().signal,
      })
      await scan()
      const old = new Date(Date.now() - 86_400_000)
      let quarantinedTotal = 0
      for (let round = 0; round < ROUNDS; round++) {
        // Contents already in items/ without a row (as a crashed purge leaves them): orphans, until the redolog's
        // new items reference them. The scanner finds the file there and does not write it again.
        for (let i = 0; i < PER_ROUND; i++) {
          const content = randomBytes(2000)
          const digest = sha256(content)
          const blob = path.join(t.home, 'items', digest.slice(0, 2), digest)
          mkdirSync(path.dirname(blob), {recursive: true})
          writeFileSync(blob, gzipSync(content))
          utimesSync(blob, old, old)
          const raw = path.join(store, digest)
          writeFileSync(raw, content)
          log.write(ALICE, 'item.created', {
            item: `${round}-${i}`, type: 'message', folder: '2', content: {path: raw, size: content.length, digest},
          }, T0 + round)
        }

        const [, fixed] = await Promise.all([scan(), check(t.catalog, {fixBackup: true})])
        quarantinedTotal += fixed.report.fixed!.filesQuarantined
      }

      const stored: string[] = await t.catalog.db('blobs').where('stored', true).pluck('digest')
      assert.equal(stored.length, ROUNDS * PER_ROUND, 'every content ends up stored')
      for (const digest of stored) {
        const verdict = await verifyBlobFile(path.join(t.home, 'items', digest.slice(0, 2), digest), digest)
        assert.equal(verdict.status, 'ok', `blob ${digest} is recorded as stored: its file must be there (${quarantinedTotal} files were quarantined in all)`)
      }

      const final = await check(t.catalog)
      assert.equal(final.report.coherent, true, JSON.stringify(final.report.findings))
    })
  })
}
