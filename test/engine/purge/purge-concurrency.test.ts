import assert from 'node:assert/strict'
import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'

import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {TRASH_DIR} from '../../../src/engine/purge/blob-trash.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {
  DAY, MailboxHistory, message, purgeNow, setGlobal, sha256,
} from './purge-fixture.js'

const ALICE = 'alice@example.com'
const MINUTE = 60_000
const POOL = 12
const ROUNDS = 40

/**
 * The Realtime Scanner and the purge at the same time, over and over, on a redolog that keeps growing, where new
 * items take the content of items the purge is removing: then every reference is checked. Both sides run in small
 * batches (one transaction each) and on separate connections, like the daemon's scanner and a doPurge typed in
 * another shell.
 */
for (const dialect of DIALECTS) {
  describe(`Purge racing the Realtime Scanner (${dialect})`, function () {
    this.timeout(180_000)
    let t: TestCatalog
    let purgeCatalog: Catalog
    let history: MailboxHistory
    const pool = Array.from({length: POOL}, (_, k) => message(`pool ${k}`, `content ${k} `.repeat(20 + k)))
    const base = Date.now() - (90 * DAY)
    let busyRetries = 0

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      purgeCatalog = await openCatalog({env: t.env})
      history = new MailboxHistory(t.home, {maxEntries: 3})
      busyRetries = 0
      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '0')
    })

    afterEach(async () => {
      await purgeCatalog.close()
      await t.cleanup()
    })

    /** The scanner as the daemon runs it: a batch that lost SQLite's write lock to the purge is tried again. */
    async function scan(): Promise<number> {
      for (;;) {
        try {
          return (await history.scan(t.catalog)).blobsWritten
        } catch (error) {
          if (!/SQLITE_BUSY/.test((error as Error).message)) throw error
          busyRetries++
        }
      }
    }

    it('never loses content a revision references, never keeps what nothing references, over many interleavings', async () => {
      history.account(ALICE, base)
      await scan()
      const live = new Map<string, Buffer>()
      let removedWhileRacing = 0
      let written = 0
      for (let round = 0; round < ROUNDS; round++) {
        const at = base + (round * MINUTE)
        // Ten new items, most with the content of items deleted (90 days ago) one or two rounds before.
        for (let i = 0; i < 10; i++) {
          const item = `r${round}-${i}`
          const content = pool[((round * 7) + i) % POOL]
          history.message(ALICE, item, content, at + i)
          if (i < 6) history.deleteItem(ALICE, item, at + 1000 + i)
          else live.set(item, content)
        }

        // Items kept live two rounds ago go now, so that contents keep losing and regaining their last reference.
        if (round >= 2) {
          for (let i = 6; i < 10; i++) {
            const item = `r${round - 2}-${i}`
            history.deleteItem(ALICE, item, at + 2000 + i)
            live.delete(item)
          }
        }

        const [scanned, report] = await Promise.all([
          (async () => {
            await sleep(Math.floor(Math.random() * 4))
            return scan()
          })(),
          (async () => {
            await sleep(Math.floor(Math.random() * 4))
            return purgeNow(purgeCatalog, {
              batchSize: 2,
              async pauseBeforeBlobCommit() {
                await sleep(Math.floor(Math.random() * 5))
              },
            })
          })(),
        ])
        written += scanned
        removedWhileRacing += report.blobs
      }

      await scan()
      const last = await purgeNow(purgeCatalog)
      await checkEveryReference(t.catalog, t.home, live)
      // The test is only worth something if the races happened: blobs were removed while the scanner ran, and
      // contents were stored again after a purge removed them (more writes than distinct contents).
      assert.ok(removedWhileRacing > 20, `blobs removed while racing: ${removedWhileRacing}`)
      assert.ok(written > POOL * 3, `blob writes: ${written}`)
      console.log(`      ${ROUNDS} rounds: ${removedWhileRacing} blobs removed while racing, ${written} blob writes by the scanner, `
        + `${busyRetries} scanner batches retried, last purge ${last.blobs} blobs`)
    })

    it('a scanner batch that comes while the purge holds a blob waits, then stores the content again', async () => {
      const content = pool[0]
      history.account(ALICE, base)
      history.message(ALICE, 'old', content, base)
      history.deleteItem(ALICE, 'old', base + 1)
      await scan()
      let scanning: Promise<number> | undefined
      const report = await purgeNow(purgeCatalog, {
        async pauseBeforeBlobCommit() {
          // The purge has deleted the row and moved the file; a new item with that content arrives now.
          history.message(ALICE, 'new', content, base + MINUTE)
          scanning = scan()
          await sleep(300)
        },
      })
      assert.equal(report.blobs, 1)
      await scanning
      assert.deepEqual(await new BlobStore(t.home).get(sha256(content)), content)
      const row = await t.catalog.db('blobs').where('digest', sha256(content)).first()
      assert.equal(Boolean(row.stored), true)
      await checkEveryReference(t.catalog, t.home, new Map([['new', content]]))
    })

    if (dialect === 'postgres') {
      it('skips a blob a scanner batch holds (updated, not committed) and keeps it listed for the next purge', async () => {
        const content = pool[1]
        history.account(ALICE, base)
        history.message(ALICE, 'old', content, base)
        history.deleteItem(ALICE, 'old', base + 1)
        await scan()
        const digest = sha256(content)
        // What referenceBlobs does first in a scanner batch, left uncommitted while the purge runs.
        const scanner = await t.catalog.db.transaction()
        await scanner('blobs').where({digest}).update({last_referenced_at: Date.now() - (2 * DAY)})
        const report = await purgeNow(purgeCatalog)
        assert.equal(report.items, 1)
        assert.equal(report.blobs, 0)
        assert.equal(report.blobsDeferred, 1)
        await scanner.rollback()
        assert.ok(existsSync(new BlobStore(t.home).pathOf(digest)))
        assert.deepEqual(await t.catalog.db('blob_purge_candidates').pluck('digest'), [digest])
        const next = await purgeNow(purgeCatalog)
        assert.equal(next.blobs, 1, 'the batch rolled back: nothing references it any more')
        assert.equal(existsSync(new BlobStore(t.home).pathOf(digest)), false)
      })
    }
  })
}

/**
 * Every revision's blob has a row; every row's content is stored (the AppServer never lost it) in a file that
 * reads and hashes to its name; no row or file is left that nothing references; no deleted item is left (they
 * were all deleted 90 days ago); the live items are exactly the expected ones, with their content.
 */
async function checkEveryReference(catalog: Catalog, home: string, live: Map<string, Buffer>): Promise<void> {
  const {db} = catalog
  const dangling = await db('item_revisions as r').leftJoin('blobs as b', 'b.digest', 'r.blob_digest').whereNotNull('r.blob_digest').whereNull('b.digest').pluck('r.blob_digest')
  assert.deepEqual(dangling, [], 'revisions whose blob has no row')
  const rows: Array<{digest: string; stored: boolean | number}> = await db('blobs').select('digest', 'stored')
  assert.deepEqual(rows.filter(row => !row.stored).map(row => row.digest), [], 'blobs recorded without their content')
  const store = new BlobStore(home)
  for (const row of rows) {
    const content = await store.get(row.digest)
    assert.equal(sha256(content), row.digest)
  }

  const unreferenced = await db('blobs as b').whereNotExists(inner => {
    inner.select(db.raw('1')).from('item_revisions as r').whereRaw('r.blob_digest = b.digest')
  }).pluck('b.digest')
  assert.deepEqual(unreferenced, [], 'blob rows nothing references')
  const files: string[] = []
  for (const dir of readdirSync(path.join(home, 'items'))) files.push(...readdirSync(path.join(home, 'items', dir)))
  assert.deepEqual(files.sort(), rows.map(row => row.digest).sort(), 'files without a row, or rows without a file')
  assert.deepEqual(existsSync(path.join(home, TRASH_DIR)) ? readdirSync(path.join(home, TRASH_DIR)) : [], [])
  assert.deepEqual(await db('blob_purge_candidates').pluck('digest'), [])

  const deleted = await db('item_revisions').where('deleted', true).whereNull('valid_to').count({n: '*'})
  assert.equal(Number(deleted[0].n), 0, 'deleted items left after the purge')
  const current: Array<{remote_id: string; blob_digest: string}> = await db('items as i')
  .join('item_revisions as r', 'r.item_id', 'i.id')
  .whereNull('r.valid_to')
  .select('i.remote_id', 'r.blob_digest')
  assert.deepEqual(
    current.map(row => [row.remote_id, row.blob_digest]).sort(),
    [...live].map(([item, content]) => [item, sha256(content)]).sort(),
  )
}
