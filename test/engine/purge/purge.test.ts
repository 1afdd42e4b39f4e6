import assert from 'node:assert/strict'
import {
  existsSync, mkdirSync, readdirSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'

import {blobPath} from '../../../src/engine/blobstore/blob-path.js'
import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {UserError} from '../../../src/engine/errors.js'
import {parseHoldTarget} from '../../../src/engine/legal-hold/hold-target.js'
import {getLegalHold, setLegalHold, unsetLegalHold} from '../../../src/engine/legal-hold/legal-hold.js'
import {TRASH_DIR} from '../../../src/engine/purge/blob-trash.js'
import {deletedStatesAfter} from '../../../src/engine/purge/deleted-items.js'
import {purge} from '../../../src/engine/purge/purge.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'
import {
  blobFileExists, contextFor, countRows, DAY, itemIds, MailboxHistory, message, purgeNow, setGlobal, sha256,
} from './purge-fixture.js'

const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'
const CAROL = 'carol@example.com'

for (const dialect of DIALECTS) {
  describe(`Purge (${dialect})`, () => {
    let t: TestCatalog
    let history: MailboxHistory
    const now = Date.now()
    const daysAgo = (days: number) => now - (days * DAY)
    const contents = {
      alone: message('deleted 40 days ago', 'only this item has it'),
      shared: message('newsletter', 'a kept item has the same content'),
      recent: message('deleted 10 days ago'),
      bob: message('bob only'),
      carol: message('carol only'),
      live: message('still there'),
    }

    /**
     * alice: 'alone' (2 revisions) and 'gone' (content shared with the live 'kept') deleted 40 days ago, 'recent'
     * deleted 10 days ago, contact 'card' deleted 40 days ago, 'kept' live.
     * bob: one message, account deleted 35 days ago. carol: one message deleted 40 days ago.
     */
    async function scenario(): Promise<void> {
      history.account(ALICE, daysAgo(60))
      history.message(ALICE, 'alone', contents.alone, daysAgo(60))
      history.flags(ALICE, 'alone', [String.raw`\Seen`], daysAgo(50))
      history.message(ALICE, 'gone', contents.shared, daysAgo(60))
      history.message(ALICE, 'kept', contents.shared, daysAgo(60))
      history.message(ALICE, 'recent', contents.recent, daysAgo(60))
      history.message(ALICE, 'live', contents.live, daysAgo(60))
      history.contact(ALICE, 'card', daysAgo(60))
      history.deleteItem(ALICE, 'alone', daysAgo(40))
      history.deleteItem(ALICE, 'gone', daysAgo(40))
      history.deleteItem(ALICE, 'card', daysAgo(40))
      history.deleteItem(ALICE, 'recent', daysAgo(10))
      history.account(BOB, daysAgo(60))
      history.message(BOB, 'b1', contents.bob, daysAgo(59))
      history.deleteAccount(BOB, daysAgo(35))
      history.account(CAROL, daysAgo(60))
      history.message(CAROL, 'c1', contents.carol, daysAgo(59))
      history.deleteItem(CAROL, 'c1', daysAgo(40))
      const totals = await history.scan(t.catalog)
      assert.equal(totals.errors, 0)
    }

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
      history = new MailboxHistory(t.home)
      await scenario()
      // Deleted accounts are kept unless a test is about them, so that item counts stay about items.
      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '0')
    })

    afterEach(async () => {
      await t.cleanup()
    })

    it('removes items deleted 40 days ago at retention 30 while a blob shared with a kept item stays readable', async () => {
      const revisionsBefore = await countRows(t.catalog, 'item_revisions')
      const report = await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['kept', 'live', 'recent'])
      assert.deepEqual(await itemIds(t.catalog, CAROL), [])
      assert.equal(report.items, 4, 'alone, gone, card of alice and c1 of carol')
      // alone: created, flags, deleted; gone and card and c1: created, deleted.
      assert.equal(report.revisions, 9)
      assert.equal(await countRows(t.catalog, 'item_revisions'), revisionsBefore - 9)
      assert.equal(report.retentionDays, 30)
      assert.equal(report.retentionSource, 'ZxBackup_DataRetentionDays')
      assert.equal(report.skipped, null)

      // The shared content stays: row, file, exact bytes.
      assert.deepEqual(await new BlobStore(t.home).get(sha256(contents.shared)), contents.shared)
      assert.ok(await t.catalog.db('blobs').where('digest', sha256(contents.shared)).first())
      // Content only deleted items had is gone, row and file; the report counts its bytes on disk.
      for (const gone of [contents.alone, contents.carol]) {
        assert.equal(await t.catalog.db('blobs').where('digest', sha256(gone)).first(), undefined)
        assert.equal(blobFileExists(t.home, gone), false)
      }

      assert.equal(report.blobs, 2)
      assert.ok(report.bytesFreed > 0 && report.bytesFreed < contents.alone.length + contents.carol.length + 200, `${report.bytesFreed}`)
      assert.equal(blobFileExists(t.home, contents.recent), true)
      assert.equal(await countRows(t.catalog, 'blob_purge_candidates'), 0)
      assert.deepEqual(readdirSync(path.join(t.home, TRASH_DIR)), [])

      const again = await purgeNow(t.catalog)
      assert.deepEqual([again.items, again.revisions, again.blobs, again.accounts], [0, 0, 0, 0], 'nothing left to purge')
    })

    it('keeps content that only an earlier state of a live item still has', async () => {
      // The draft's first version has the bytes of 'alone' (deleted 40 days ago); its current version does not.
      history.message(ALICE, 'draft', contents.alone, daysAgo(59))
      history.modify(ALICE, 'draft', message('draft, second version'), daysAgo(45))
      await history.scan(t.catalog)
      const report = await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['draft', 'kept', 'live', 'recent'])
      assert.equal(report.blobs, 1, 'carol\'s content only')
      assert.deepEqual(await new BlobStore(t.home).get(sha256(contents.alone)), contents.alone)
      assert.ok(await t.catalog.db('blobs').where('digest', sha256(contents.alone)).first())
    })

    it('takes the retention from the configuration, and purgeDays overrides it for one run', async () => {
      await setGlobal(t.catalog, 'ZxBackup_DataRetentionDays', '45')
      const configured = await purgeNow(t.catalog)
      assert.equal(configured.items, 0, 'nothing was deleted more than 45 days ago')
      assert.equal(configured.retentionDays, 45)

      const override = await purgeNow(t.catalog, {purgeDays: 5})
      assert.equal(override.retentionDays, 5)
      assert.equal(override.retentionSource, 'purgeDays')
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['kept', 'live'])
      assert.equal(blobFileExists(t.home, contents.recent), false)
      assert.equal(override.items, 5)
    })

    it('ends at once with retention 0 and says why', async () => {
      await setGlobal(t.catalog, 'ZxBackup_DataRetentionDays', '0')
      const before = await countRows(t.catalog, 'item_revisions')
      const report = await purgeNow(t.catalog)
      assert.match(report.skipped ?? '', /ZxBackup_DataRetentionDays is 0, which means infinite retention: nothing is purged/)
      assert.equal(report.cutoff, null)
      assert.equal(await countRows(t.catalog, 'item_revisions'), before)
      assert.deepEqual(await itemIds(t.catalog, BOB), ['b1'], 'deleted accounts are kept too')

      await setGlobal(t.catalog, 'ZxBackup_DataRetentionDays', '30')
      const zeroDays = await purgeNow(t.catalog, {purgeDays: 0})
      assert.match(zeroDays.skipped ?? '', /^purgeDays is 0/)
      assert.equal(await countRows(t.catalog, 'item_revisions'), before)
    })

    it('removes an account deleted longer ago than backupAccountsRetentionDays, with all it had', async () => {
      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '40')
      const kept = await purgeNow(t.catalog)
      assert.equal(kept.accounts, 0)
      assert.deepEqual(await itemIds(t.catalog, BOB), ['b1'])

      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '30')
      const report = await purgeNow(t.catalog)
      assert.equal(report.accounts, 1)
      assert.equal(await t.catalog.db('accounts').where('name', BOB).first(), undefined)
      const bobRows = await t.catalog.db('account_revisions').where('name', BOB).count({n: '*'})
      assert.equal(Number(bobRows[0].n), 0)
      assert.equal(await t.catalog.db('folders as f').leftJoin('accounts as a', 'a.id', 'f.account_id').whereNull('a.id').first(), undefined, 'no folder left without its account')
      assert.equal(blobFileExists(t.home, contents.bob), false)
      assert.equal(await t.catalog.db('blobs').where('digest', sha256(contents.bob)).first(), undefined)
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['kept', 'live', 'recent'], 'other accounts keep their live items')
    })

    it('keeps an account under legal hold whole; after unset the next purge removes what is past retention', async () => {
      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '30')
      const held = await setLegalHold(t.catalog, parseHoldTarget([ALICE, BOB]))
      assert.deepEqual(held.accounts.map(a => [a.account, a.held, a.by, a.deleted]), [[ALICE, true, 'account', false], [BOB, true, 'account', true]])
      const report = await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['alone', 'card', 'gone', 'kept', 'live', 'recent'])
      assert.deepEqual(await itemIds(t.catalog, BOB), ['b1'])
      assert.deepEqual(await itemIds(t.catalog, CAROL), [], 'carol is not held')
      assert.equal(report.itemsHeld, 3)
      assert.equal(report.accountsHeld, 1)
      assert.equal(blobFileExists(t.home, contents.alone), true)

      const released = await unsetLegalHold(t.catalog, parseHoldTarget([ALICE, BOB]))
      assert.deepEqual(released.accounts.map(a => a.held), [false, false])
      const after = await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, ALICE), ['kept', 'live', 'recent'])
      assert.equal(after.accounts, 1)
      assert.equal(blobFileExists(t.home, contents.alone), false)
    })

    it('legal hold on an address created again also holds the deleted account that had it before', async () => {
      await setGlobal(t.catalog, 'backupAccountsRetentionDays', '30')
      history.account(BOB, daysAgo(20))
      history.message(BOB, 'b2', contents.live, daysAgo(19))
      await history.scan(t.catalog)
      const held = await setLegalHold(t.catalog, parseHoldTarget([BOB]))
      const previous = held.accounts.find(a => a.account.startsWith(`${BOB}#deleted-`))
      assert.ok(previous, JSON.stringify(held.accounts))
      assert.deepEqual(held.accounts.map(a => a.held), [true, true])
      await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, previous.account), ['b1'], 'the mail of the first bob is kept')
      assert.equal(blobFileExists(t.home, contents.bob), true)
      const released = await unsetLegalHold(t.catalog, parseHoldTarget([BOB]))
      assert.deepEqual(released.accounts.map(a => a.held), [false, false])
    })

    it('legal hold on all covers accounts that appear later, refuses to release one of them, and unset all releases', async () => {
      await setLegalHold(t.catalog, {kind: 'all'})
      history.account('dave@example.com', daysAgo(50))
      history.contact('dave@example.com', 'd1', daysAgo(50))
      history.deleteItem('dave@example.com', 'd1', daysAgo(45))
      await history.scan(t.catalog)
      const state = await getLegalHold(t.catalog, parseHoldTarget(['dave@example.com']))
      assert.deepEqual(state.accounts.map(a => [a.account, a.held, a.by]), [['dave@example.com', true, 'all']])
      const report = await purgeNow(t.catalog)
      assert.deepEqual([report.items, report.accounts], [0, 0])
      assert.deepEqual(await itemIds(t.catalog, 'dave@example.com'), ['d1'])

      await assert.rejects(unsetLegalHold(t.catalog, parseHoldTarget([ALICE])), /all accounts are under legal hold/)
      await unsetLegalHold(t.catalog, {kind: 'all'})
      const all = await getLegalHold(t.catalog, {kind: 'all'})
      assert.equal(all.all, false)
      assert.ok(all.accounts.every(a => !a.held))
      await purgeNow(t.catalog)
      assert.deepEqual(await itemIds(t.catalog, 'dave@example.com'), [])
    })

    it('refuses unknown accounts and changes nothing', async () => {
      await assert.rejects(setLegalHold(t.catalog, parseHoldTarget([ALICE, 'nobody@example.com', 'ghost@example.com'])), (error: Error) => {
        assert.ok(error instanceof UserError)
        assert.match(error.message, /accounts not in the backup: nobody@example.com, ghost@example.com \(nothing changed\)/)
        return true
      })
      const state = await getLegalHold(t.catalog, {kind: 'all'})
      assert.ok(state.accounts.every(a => !a.held))
      assert.throws(() => parseHoldTarget(['all', ALICE]), /either all or a list/)
    })

    it('leaves a blob referenced within the grace period for the next purge, remembered, not leaked', async () => {
      const report = await purgeNow(t.catalog, {blobGraceMs: 60 * 60 * 1000})
      assert.equal(report.items, 4)
      assert.equal(report.blobs, 0, 'the scanner referenced every blob moments ago')
      assert.equal(report.blobsDeferred, 2)
      assert.deepEqual((await t.catalog.db('blob_purge_candidates').orderBy('digest').pluck('digest')), [sha256(contents.alone), sha256(contents.carol)].sort())
      assert.equal(blobFileExists(t.home, contents.alone), true)

      // An hour later (the reference dated back rather than waiting): the next purge removes them.
      await t.catalog.db('blobs').update({last_referenced_at: Date.now() - (2 * 60 * 60 * 1000)})
      const next = await purgeNow(t.catalog, {blobGraceMs: 60 * 60 * 1000})
      assert.equal(next.items, 0)
      assert.equal(next.blobs, 2)
      assert.equal(await countRows(t.catalog, 'blob_purge_candidates'), 0)
      assert.equal(blobFileExists(t.home, contents.alone), false)
    })

    it('puts the files back when the blob transaction fails, and the next purge finishes', async () => {
      await assert.rejects(purgeNow(t.catalog, {
        async pauseBeforeBlobCommit() {
          assert.equal(blobFileExists(t.home, contents.alone), false, 'moved out of its name before the commit')
          throw new Error('disk on fire')
        },
      }), /disk on fire/)
      assert.deepEqual(await new BlobStore(t.home).get(sha256(contents.alone)), contents.alone)
      assert.ok(await t.catalog.db('blobs').where('digest', sha256(contents.alone)).first())
      // Nothing of the failed transaction stays: even the shared blob, settled in it, is still a candidate.
      assert.deepEqual(await t.catalog.db('blob_purge_candidates').orderBy('digest').pluck('digest'), [contents.alone, contents.carol, contents.shared].map(content => sha256(content)).sort())

      const next = await purgeNow(t.catalog)
      assert.equal(next.items, 0, 'the items went in the first run')
      assert.equal(next.blobs, 2)
      assert.equal(blobFileExists(t.home, contents.alone), false)
    })

    it('settles what a purge killed before its commit left in the trash', async () => {
      // As if killed after moving: the live content's file in the trash, its row still there; a stray one too.
      const trash = path.join(t.home, TRASH_DIR)
      mkdirSync(trash, {recursive: true})
      const live = sha256(contents.live)
      const {rename} = await import('node:fs/promises')
      await rename(blobPath(t.home, live), path.join(trash, live))
      writeFileSync(path.join(trash, 'f'.repeat(64)), 'stray')
      const report = await purgeNow(t.catalog)
      assert.deepEqual(await new BlobStore(t.home).get(live), contents.live)
      assert.deepEqual(readdirSync(trash), [])
      assert.equal(report.items, 4)
    })

    it('stops between batches when asked, and the next purge finishes the work', async () => {
      const controller = new AbortController()
      let batches = 0
      const context = {
        ...contextFor(t.catalog, controller.signal),
        progress(event: {kind: string}) {
          if (event.kind === 'counters' && ++batches === 1) controller.abort('stop')
        },
      }
      await assert.rejects(purge(context, {batchSize: 1, blobGraceMs: 0}), /operation stopped/)
      const removedSoFar = 6 - (await itemIds(t.catalog, ALICE)).length
      assert.equal(removedSoFar, 1, 'one batch of one item')
      const next = await purgeNow(t.catalog)
      assert.equal(next.items, 3)
      assert.equal(next.blobs, 2, 'including the blob of the item removed by the stopped run')
      assert.equal(existsSync(blobPath(t.home, sha256(contents.alone))), false)
    })

    if (dialect === 'sqlite') {
      it('finds deleted items and blob references through their partial indexes, not a scan of the catalog', async () => {
        const query = deletedStatesAfter(t.catalog.db, now, {id: 5, validFrom: daysAgo(50)}, 500).toSQL()
        const items = await queryPlan(t, query.sql, query.bindings as Array<number | string>)
        assert.match(items, /USING (COVERING )?INDEX item_revisions_deleted_since/)
        assert.doesNotMatch(items, /TEMP B-TREE/)
        const blobs = await queryPlan(t, 'select 1 from item_revisions as r where r.blob_digest = ?', ['x'])
        assert.match(blobs, /INDEX item_revisions_blob/)
      })
    }
  })
}

async function queryPlan(t: TestCatalog, sql: string, bindings: Array<number | string>): Promise<string> {
  const rows: Array<{detail: string}> = await t.catalog.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)
  return rows.map(row => row.detail).join(' | ')
}
