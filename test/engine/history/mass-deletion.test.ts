import assert from 'node:assert/strict'

import {findAccount} from '../../../src/engine/history/account-lookup.js'
import {MASS_DELETION_RULE, recentMassDeletion} from '../../../src/engine/history/mass-deletion.js'
import {stateAt} from '../../../src/engine/history/state-at.js'
import {catchUp, sha256} from '../../helpers/history-scenario.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const T0 = Date.parse('2026-11-01T08:00:00.000Z')
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const ACCOUNT = 'dave@example.com'

function inline(subject: string) {
  const bytes = Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`)
  return {inline: bytes.toString('base64'), size: bytes.length, digest: sha256(bytes)}
}

for (const dialect of DIALECTS) {
  describe(`recent mass deletion of an account (${dialect})`, () => {
    let t: TestCatalog
    let log: RedologWriter

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      log = new RedologWriter(`${t.home}/redolog`)
      log.write(ACCOUNT, 'account.created', {id: 'dave-id'}, T0)
      log.write(ACCOUNT, 'folder.created', {
        folder: '2', parent: '1', path: '/Inbox', view: 'message',
      }, T0)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    /** Messages 1..count in /Inbox at T0. */
    function create(count: number): void {
      for (let item = 1; item <= count; item++) {
        log.write(ACCOUNT, 'item.created', {
          item: String(item), type: 'message', folder: '2', metadata: {subject: `message ${item}`}, content: inline(`message ${item}`),
        }, T0)
      }
    }

    function remove(items: number[], at: number, every = 0): void {
      for (const [index, item] of items.entries()) log.write(ACCOUNT, 'item.deleted', {item: String(item)}, at + (index * every))
    }

    async function detect() {
      await catchUp(t.catalog, log)
      return recentMassDeletion(t.catalog, await findAccount(t.catalog, ACCOUNT))
    }

    it('names the moment before a run of deletions that took most of the account, a morning deletion aside', async () => {
      create(10)
      remove([1], T0 + HOUR)
      remove([2, 3, 4, 5, 6, 7, 8], T0 + (5 * HOUR), 30_000)
      const found = await detect()
      assert.deepEqual(found, {
        itemsBefore: 9,
        deleted: 7,
        remaining: 2,
        startedAt: T0 + (5 * HOUR),
        endedAt: T0 + (5 * HOUR) + (3 * MINUTE),
        lastMomentBefore: T0 + (5 * HOUR) - 1,
      })
      const items = []
      for await (const item of (await stateAt(t.catalog, ACCOUNT, found.lastMomentBefore)).items()) items.push(item.id)
      assert.equal(items.length, 9)
    })

    it('goes back past a later, smaller run to the deletion that emptied the account', async () => {
      create(10)
      remove([1, 2, 3, 4, 5, 6], T0 + HOUR)
      remove([7, 8, 9], T0 + (3 * HOUR))
      const found = await detect()
      assert.equal(found?.lastMomentBefore, T0 + HOUR - 1)
      assert.equal(found?.itemsBefore, 10)
      assert.equal(found?.deleted, 9)
      assert.equal(found?.remaining, 1)
    })

    it('takes the newest run when an earlier one removed only a few', async () => {
      create(10)
      remove([1, 2, 3], T0 + HOUR)
      remove([4, 5, 6, 7, 8, 9], T0 + (3 * HOUR))
      const found = await detect()
      assert.equal(found?.lastMomentBefore, T0 + (3 * HOUR) - 1)
      assert.equal(found?.itemsBefore, 7)
    })

    it('sees none in a clean-up that keeps most of the account', async () => {
      create(10)
      remove([1, 2, 3], T0 + HOUR)
      assert.equal(await detect(), null, 'a clean-up keeps most of the account')
    })

    it(`sees none in a mailbox of fewer than ${MASS_DELETION_RULE.minItems} items`, async () => {
      create(MASS_DELETION_RULE.minItems - 1)
      remove([1, 2, 3, 4], T0 + HOUR)
      assert.equal(await detect(), null)
    })

    it('sees none in steady churn: messages that arrive and go while the rest stays', async () => {
      create(10)
      for (let n = 0; n < 20; n++) {
        const item = String(100 + n)
        const at = T0 + HOUR + (n * 30 * MINUTE)
        log.write(ACCOUNT, 'item.created', {
          item, type: 'message', folder: '2', metadata: {subject: item}, content: inline(item),
        }, at)
        log.write(ACCOUNT, 'item.deleted', {item}, at + (20 * MINUTE))
      }

      assert.equal(await detect(), null)
    })

    it('sees none when the emptying is more than a day older than the newest deletion', async () => {
      create(10)
      remove([1, 2, 3, 4, 5, 6, 7, 8], T0 + HOUR)
      remove([9], T0 + (30 * HOUR))
      assert.equal(await detect(), null)
    })
  })
}
