import type {Knex} from 'knex'

import assert from 'node:assert/strict'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'

import {backupInfo} from '../../../src/engine/history/backup-info.js'
import {buildScenarioBackup} from '../../helpers/history-scenario.js'
import {DIALECTS, type TestCatalog} from '../../helpers/test-catalog.js'

// getBackupInfo took 54-108 s on a backup of 164k blobs: its dedup and blobless figures read every revision and
// looked each one's blob up. They now come from indexes; these tests hold them to the figures the plain queries over
// every revision give (the definitions), also on a damaged catalog, and on SQLite to plans that read no revision row.
for (const dialect of DIALECTS) {
  describe(`backup information from the indexes (${dialect})`, () => {
    let t: TestCatalog

    before(async () => {
      ({t} = await buildScenarioBackup(dialect))
    })

    after(async () => {
      await t.cleanup()
    })

    it('gives the dedup and the current items without content as a pass over every revision does', async () => {
      await assertSameAsEveryRevision(t.catalog)
    })

    if (dialect === 'sqlite') {
      it('reads no revision row for the dedup and the items without content, and sorts nothing', async () => {
        const queries: string[] = []
        const record = (query: {sql: string}) => queries.push(query.sql)
        t.catalog.db.on('query', record)
        try {
          await backupInfo(t.catalog, 'mail1', Date.now(), {countFiles: false})
        } finally {
          t.catalog.db.removeListener('query', record)
        }

        const concerned = queries.filter(sql => /blob_digest|content_missing/.test(sql))
        assert.equal(concerned.length, 3, concerned.join('\n'))
        for (const sql of concerned) {
          const plan = (await t.catalog.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindingsFor(sql))).map((row: {detail: string}) => row.detail).join(' | ')
          assert.match(plan, /INDEX item_revisions_(blob_item|content_missing)/, sql)
          assert.doesNotMatch(plan, /SCAN (item_revisions|r)\b(?! USING)/, sql)
          assert.doesNotMatch(plan, /TEMP B-TREE/, sql)
        }
      })
    }

    it('still counts a current item whose digest lost its blob row as not stored (a damaged catalog)', async () => {
      const {db} = t.catalog
      const before = await backupInfo(t.catalog, 'mail1', Date.now(), {countFiles: false})
      const lunch = await db('item_revisions as r')
      .join('blobs as b', 'b.digest', 'r.blob_digest')
      .whereNull('r.valid_to')
      .andWhere('r.deleted', false)
      .andWhere('r.content_missing', false)
      .andWhere('b.stored', true)
      .first('r.blob_digest as digest')
      await withoutForeignKeys(t.catalog, trx => trx('blobs').where('digest', lunch.digest).delete())
      const after = await assertSameAsEveryRevision(t.catalog)
      assert.ok(after.blobless.currentNotStored > before.blobless.currentNotStored, 'the item is now without content')
      assert.ok(after.dedup.referencedBytes < before.dedup.referencedBytes, 'its references no longer count as stored')
    })
  })
}

/** The figures as defined: a pass over every revision, joined to its blob (the queries getBackupInfo ran before). */
async function assertSameAsEveryRevision(catalog: Catalog) {
  const {db} = catalog
  const info = await backupInfo(catalog, 'mail1', Date.now(), {countFiles: false})
  const [references] = await db('item_revisions as r')
  .join('blobs as b', 'b.digest', 'r.blob_digest')
  .where('b.stored', true)
  .select(db.raw('SUM(b.size) as bytes'))
  const [perItem] = await db
  .from(db('item_revisions').whereNotNull('blob_digest').distinct('item_id', 'blob_digest').as('x'))
  .join('blobs as b', 'b.digest', 'x.blob_digest')
  .where('b.stored', true)
  .select(db.raw('SUM(b.size) as bytes'))
  const [current] = await db('item_revisions as r')
  .leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
  .whereNull('r.valid_to')
  .andWhere('r.deleted', false)
  .whereNotNull('r.blob_digest')
  .select(
    db.raw('SUM(CASE WHEN r.content_missing = ? THEN 1 ELSE 0 END) as missing', [true]),
    db.raw('SUM(CASE WHEN r.content_missing = ? AND (b.stored IS NULL OR b.stored = ?) THEN 1 ELSE 0 END) as not_stored', [false, false]),
  )
  assert.equal(info.dedup.referencedBytes, Number(references.bytes ?? 0))
  assert.equal(info.dedup.perItemReferencedBytes, Number(perItem.bytes ?? 0))
  assert.equal(info.blobless.currentContentMissing, Number(current.missing ?? 0))
  assert.equal(info.blobless.currentNotStored, Number(current.not_stored ?? 0))
  return info
}

async function withoutForeignKeys(catalog: Catalog, change: (trx: Knex | Knex.Transaction) => Promise<unknown>): Promise<void> {
  if (catalog.dialect === 'sqlite') {
    await catalog.db.raw('PRAGMA foreign_keys = OFF')
    try {
      await change(catalog.db)
    } finally {
      await catalog.db.raw('PRAGMA foreign_keys = ON')
    }

    return
  }

  // The test server's user is a superuser: replica mode skips the foreign key triggers for this transaction.
  await catalog.db.transaction(async trx => {
    await trx.raw('SET LOCAL session_replication_role = replica')
    await change(trx)
  })
}

/** EXPLAIN needs a value for each placeholder; which one does not change the plan. */
function bindingsFor(sql: string): number[] {
  return Array.from(sql.matchAll(/\?/g), () => 0)
}
