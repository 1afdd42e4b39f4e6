import assert from 'node:assert/strict'
import {statSync} from 'node:fs'
import path from 'node:path'

import {blobPath} from '../../../src/engine/blobstore/blob-path.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {accountInfo} from '../../../src/engine/history/account-info.js'
import {availableAccounts, availableDomains} from '../../../src/engine/history/available-accounts.js'
import {backupInfo} from '../../../src/engine/history/backup-info.js'
import {
  ALICE, BOB, buildScenarioBackup, CAROL, catchUp, MINUTE, type Scenario, sha256, T0,
} from '../../helpers/history-scenario.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

for (const dialect of DIALECTS) {
  describe(`account, availability and backup information (${dialect})`, () => {
    let t: TestCatalog
    let scenario: Scenario

    before(async () => {
      ({scenario, t} = await buildScenarioBackup(dialect))
    })

    after(async () => {
      await t.cleanup()
    })

    const storedSize = (content: Buffer) => statSync(blobPath(t.home, sha256(content))).size

    it('counts what the backup holds for an account and says it needs a SmartScan', async () => {
      const info = await accountInfo(t.catalog, 'ALICE@example.com')
      const c = scenario.contents
      assert.equal(info.account.name, ALICE)
      assert.equal(info.account.remoteId, '7f3c2a10-alice')
      assert.equal(info.account.domain, 'example.com')
      assert.equal(info.account.cos, 'default')
      assert.equal(info.account.firstSeen, T0)
      assert.equal(info.account.deletedAt, null)
      assert.equal(info.account.legalHold, false)
      assert.deepEqual(info.names, [ALICE])
      assert.equal(info.certainty.certain, false)
      assert.match(info.certainty.reason!, /was emptied/)
      assert.match(info.certainty.advice!, /a SmartScan is required/)
      assert.deepEqual(info.counts, {
        items: 8, liveItems: 6, deletedItems: 2, revisions: 12, folders: 5, deletedFolders: 0,
      })
      const stored = [c.lunch, c.report, c.vcard, c.quote, c.percent]
      assert.deepEqual(info.blobs, {
        referenced: 6,
        referencedBytes: stored.reduce((sum, b) => sum + b.length, 0) + 10,
        stored: 5,
        storedBytes: stored.reduce((sum, b) => sum + storedSize(b), 0),
      })
      assert.deepEqual(info.lastTransaction, {seq: scenario.seqs.create304, time: T0 + (8 * MINUTE)})
    })

    it('tells a deleted account and a certain one', async () => {
      const info = await accountInfo(t.catalog, BOB)
      assert.equal(info.account.deletedAt, T0 + (10 * MINUTE))
      assert.equal(info.certainty.certain, true)
      assert.equal(info.certainty.advice, null)
      assert.deepEqual(info.counts, {
        items: 1, liveItems: 1, deletedItems: 0, revisions: 1, folders: 0, deletedFolders: 0,
      })
      // account_revisions keep no seq: the seq is that of the account's newest item or folder transaction.
      assert.deepEqual(info.lastTransaction, {seq: scenario.seqs.bobItem, time: T0 + (10 * MINUTE)})
    })

    it('lists every account with the deleted ones marked, or those that existed at a time under their name then', async () => {
      const all = await availableAccounts(t.catalog)
      assert.deepEqual(all.map(a => [a.name, a.deleted, a.uncertain]), [
        [ALICE, false, true],
        [BOB, true, false],
        [CAROL, false, false],
        [`${CAROL}#deleted-${T0 + MINUTE}`, true, false],
      ])
      const early = await availableAccounts(t.catalog, T0 + (MINUTE / 2))
      assert.deepEqual(early.map(a => [a.nameAt, a.name, a.deleted, a.remoteId]), [
        [ALICE, ALICE, false, '7f3c2a10-alice'],
        [BOB, BOB, true, 'b0b-id'],
        [CAROL, `${CAROL}#deleted-${T0 + MINUTE}`, true, 'carol-1'],
      ])
      assert.deepEqual((await availableAccounts(t.catalog, T0 + (1.5 * MINUTE))).map(a => a.nameAt), [ALICE, BOB])
      assert.deepEqual((await availableAccounts(t.catalog, T0 + (20 * MINUTE))).map(a => [a.nameAt, a.remoteId]), [[ALICE, '7f3c2a10-alice'], [CAROL, 'carol-2']])
      assert.deepEqual(await availableAccounts(t.catalog, T0 - 1), [])
    })

    it('lists the domains with their live and deleted accounts', async () => {
      assert.deepEqual(await availableDomains(t.catalog), [{
        name: 'example.com', firstSeen: T0, deletedAt: null, accounts: 2, deletedAccounts: 2,
      }])
    })

    it('reports sizes, counts, dedup, the last transaction and its lag, errors and uncertain accounts', async () => {
      const now = T0 + (11 * MINUTE)
      const info = await backupInfo(t.catalog, 'mail1', now)
      const c = scenario.contents
      const stored = [c.lunch, c.report, c.vcard, c.quote, c.percent, c.bob]
      const storedBytes = stored.reduce((sum, b) => sum + storedSize(b), 0)
      assert.equal(info.backupPath, t.home)
      assert.equal(info.catalog.dialect, dialect)
      if (dialect === 'sqlite') {
        const file = path.join(t.home, 'catalog.sqlite')
        let expected = statSync(file).size
        try {
          expected += statSync(`${file}-wal`).size
        } catch {}

        assert.equal(info.catalog.metadataBytes, expected)
      } else {
        assert.ok(info.catalog.metadataBytes > 1_000_000, `pg_database_size is ${info.catalog.metadataBytes}`)
      }

      assert.deepEqual(info.blobStore, {
        files: 6, bytesOnDisk: storedBytes, catalogStored: 6, catalogStoredBytes: storedBytes,
      })
      assert.deepEqual(info.counts, {
        accounts: 4, deletedAccounts: 2, domains: 1, items: 10, revisions: 14, blobs: 7,
      })
      const references = (5 * c.lunch.length) + (2 * c.report.length) + c.vcard.length + c.quote.length + c.percent.length + c.bob.length
      const perItem = (2 * c.lunch.length) + c.report.length + c.vcard.length + c.quote.length + c.percent.length + c.bob.length
      assert.equal(info.dedup.referencedBytes, references)
      assert.equal(info.dedup.storedBytes, storedBytes)
      assert.equal(info.dedup.ratio, Math.round((references / storedBytes) * 100) / 100)
      assert.equal(info.dedup.perItemReferencedBytes, perItem)
      assert.equal(info.dedup.perItemRatio, Math.round((perItem / storedBytes) * 100) / 100)
      assert.match(info.dedup.definition, /every state counts/)
      const raw = stored.reduce((sum, b) => sum + b.length, 0)
      assert.equal(info.dedup.storedRawBytes, raw)
      assert.equal(info.dedup.compressionRatio, Math.round((raw / storedBytes) * 100) / 100)
      assert.deepEqual(info.blobless, {
        enabled: false, currentWithoutContent: 1, currentNotStored: 0, currentContentMissing: 1,
      })
      assert.equal(info.lastTransaction.seq, scenario.seqs.last)
      assert.equal(info.lastTransaction.time, T0 + (10 * MINUTE))
      assert.equal(info.lastTransaction.lagMs, MINUTE)
      assert.deepEqual(info.lastTransaction.checkpoints.map(cp => [cp.connector, cp.seq, cp.file]), [['redolog', scenario.seqs.last, path.basename(scenario.log.file)]])
      // Another server sharing the catalog follows its own redolog: its seq is listed, not taken for this server's.
      await t.catalog.db('checkpoints').insert({
        connector: 'redolog', scope: 'mail2', position: JSON.stringify({seq: 99_999, file: 'other.log'}), updated_at: now,
      })
      const shared = await backupInfo(t.catalog, 'mail1', now)
      assert.equal(shared.lastTransaction.seq, scenario.seqs.last)
      assert.deepEqual(shared.lastTransaction.checkpoints.map(cp => cp.seq), [scenario.seqs.last, 99_999])
      assert.equal(info.ingestErrors.count, 1)
      assert.equal(info.ingestErrors.newest[0].where, `${path.basename(scenario.log.file)}:${scenario.seqs.create259}`)
      assert.equal(info.ingestErrors.newest[0].account, ALICE)
      assert.match(info.ingestErrors.newest[0].reason, /vanished\.msg is gone on the AppServer/)
      assert.deepEqual(info.uncertainAccounts.map(a => a.account), [ALICE])
      assert.match(info.uncertainAccounts[0].advice, /a SmartScan is required/)
    })
  })

  describe(`backup information in blobless mode (${dialect})`, () => {
    let t: TestCatalog

    before(async () => {
      t = await openTestCatalog(dialect)
    })

    after(async () => {
      await t.cleanup()
    })

    it('counts the current items whose content the backup does not keep, and lists the newest 20 errors', async () => {
      await setAttribute(t.catalog, {level: 'global', target: ''}, 'backupBloblessMode', 'true')
      const log = new RedologWriter(path.join(t.home, 'redolog'))
      const content = Buffer.from('Subject: kept elsewhere\r\n\r\nbody\r\n')
      log.write(ALICE, 'account.created', {}, T0)
      for (const item of ['1', '2', '3']) {
        log.write(ALICE, 'item.created', {
          item, type: 'message', folder: '2', content: {path: '/nowhere/needed', size: content.length, digest: sha256(content)},
        }, T0 + 1)
      }

      log.write(ALICE, 'item.deleted', {item: '3'}, T0 + 2)
      for (let i = 0; i < 25; i++) log.write(ALICE, 'item.flags', {item: `missing-${i}`, flags: []}, T0 + 3)
      await catchUp(t.catalog, log)
      const info = await backupInfo(t.catalog, 'mail1', T0 + 1000)
      assert.deepEqual(info.blobless, {
        enabled: true, currentWithoutContent: 2, currentNotStored: 2, currentContentMissing: 0,
      })
      assert.deepEqual(info.blobStore, {
        files: 0, bytesOnDisk: 0, catalogStored: 0, catalogStoredBytes: 0,
      })
      assert.equal(info.dedup.ratio, null)
      assert.equal(info.ingestErrors.count, 25)
      assert.equal(info.ingestErrors.newest.length, 20)
      assert.match(info.ingestErrors.newest[0].reason, /item missing-24/)
      assert.match(info.ingestErrors.newest[19].reason, /item missing-5,/)
      // The 25 bad lines produced no revision: the last applied transaction is the deletion at T0+2.
      assert.equal(info.lastTransaction.lagMs, 998)
    })
  })

  describe(`the last transaction after a big batch (${dialect})`, () => {
    let t: TestCatalog

    before(async () => {
      t = await openTestCatalog(dialect)
    })

    after(async () => {
      await t.cleanup()
    })

    it('is the newest transaction even when thousands of revisions of the same batch were written after it', async () => {
      // A batch writes its revisions item by item, not in seq order: here the last transaction (a change to item 1)
      // is written before the creations of the 2100 items after it.
      const log = new RedologWriter(path.join(t.home, 'redolog'))
      log.write(ALICE, 'account.created', {}, T0)
      for (let i = 1; i <= 2100; i++) log.write(ALICE, 'item.created', {item: String(i), type: 'contact', folder: '7'}, T0 + i)
      const last = log.write(ALICE, 'item.flags', {item: '1', flags: ['x']}, T0 + (60 * MINUTE))
      await catchUp(t.catalog, log)
      const info = await backupInfo(t.catalog, 'mail1', T0 + (61 * MINUTE))
      assert.equal(info.lastTransaction.seq, last)
      assert.equal(info.lastTransaction.time, T0 + (60 * MINUTE))
      assert.equal(info.lastTransaction.lagMs, MINUTE)
    })
  })
}
