import assert from 'node:assert/strict'

import {markScanned, markUncertain} from '../../../src/engine/scanner/account-certainty.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

for (const dialect of DIALECTS) {
  describe(`account certainty after a scan (${dialect})`, () => {
    let t: TestCatalog
    let ids: number[]

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      ids = []
      for (const name of ['a@example.com', 'b@example.com', 'c@example.com']) {
        const [row] = await t.catalog.db('accounts').insert({name, first_seen: 1}).returning('id')
        ids.push(Number(row.id))
      }
    })

    afterEach(async () => {
      await t.cleanup()
    })

    const state = async (id: number) => t.catalog.db('account_state').where({account_id: id}).first('certain', 'reason', 'last_scan_at')

    it('makes every scanned account certain, and keeps a doubt that arose after the scan began', async () => {
      await markUncertain(t.catalog.db, [ids[0]], 'empty folder', 1000)
      await markUncertain(t.catalog.db, [ids[1]], 'gap in the stream', 3000)
      await markScanned(t.catalog.db, ids, 2000, 4000)
      const cleared = await state(ids[0])
      assert.ok(cleared.certain, 'a doubt older than the scan is cleared')
      assert.equal(cleared.reason, null)
      assert.equal(Number(cleared.last_scan_at), 4000)
      const kept = await state(ids[1])
      assert.ok(!kept.certain, 'a doubt recorded after the scan began stays')
      assert.equal(kept.reason, 'gap in the stream')
      assert.equal(Number(kept.last_scan_at), 4000)
      assert.ok((await state(ids[2])).certain, 'an account without a state row gets a certain one')
    })
  })
}
