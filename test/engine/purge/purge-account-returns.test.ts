import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {
  DAY, MailboxHistory, message, purgeNow, SERVER,
} from './purge-fixture.js'

const ALICE = 'alice@example.com'

async function until(what: string, check: () => Promise<unknown>, failed: () => unknown): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (failed()) return
    if (await check()) return
    await sleep(25)
  }

  throw new Error(`timed out waiting for ${what}`)
}

/**
 * The daemon's scanner follows the redolog for months and caches accounts by address; a purge in another process
 * removes an account deleted long ago, then the AppServer creates that address again. On PostgreSQL nothing tells
 * the scanner that another connection wrote, and setting the cached (purged) account aside threw a TypeError that
 * stopped the Realtime Scanner.
 */
for (const dialect of DIALECTS) {
  describe(`A following scanner when a purged account's address comes back (${dialect})`, function () {
    this.timeout(60_000)
    let t: TestCatalog
    let purgeCatalog: Catalog

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      purgeCatalog = await openCatalog({env: t.env})
    })

    afterEach(async () => {
      await purgeCatalog.close()
      await t.cleanup()
    })

    it('creates the new account and goes on following', async () => {
      const history = new MailboxHistory(t.home)
      const base = Date.now() - (90 * DAY)
      history.account(ALICE, base)
      history.message(ALICE, 'old', message('old'), base)
      history.deleteAccount(ALICE, base + 1000)
      const controller = new AbortController()
      let failure: unknown
      const following = runScanner({
        catalog: t.catalog, server: SERVER, feed: new RedologFeed(history.log.dir, {follow: true, pollMs: 25}), signal: controller.signal,
      }).catch(error => {
        failure = error
      })
      try {
        await until('the deletion', () => t.catalog.db('accounts').whereNotNull('deleted_at').first('id'), () => failure)
        assert.equal((await purgeNow(purgeCatalog)).accounts, 1)
        history.account(ALICE, Date.now())
        history.message(ALICE, 'new', message('new'), Date.now())
        await until('the new message', () => t.catalog.db('items').where('remote_id', 'new').first('id'), () => failure)
      } finally {
        controller.abort()
        await following
      }

      assert.equal(failure, undefined)
      const accounts = await t.catalog.db('accounts').select('name', 'deleted_at')
      assert.deepEqual(accounts, [{name: ALICE, deleted_at: null}])
    })
  })
}
