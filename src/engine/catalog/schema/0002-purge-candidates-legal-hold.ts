import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // Blobs that may have lost their last reference: every digest that removed revisions pointed to is written here
  // in the same transaction that removes them, and leaves only when the purge has either deleted the blob or seen
  // it referenced again. A blob the purge passed over (referenced too recently, or locked by a scanner batch in
  // flight) stays listed, so the next purge looks at it again: nothing leaks, whatever stops a purge half-way.
  // The purge finds work here instead of scanning `blobs`, so its cost follows what it removed.
  await db.schema.createTable('blob_purge_candidates', t => {
    t.string('digest', 64).primary()
    t.bigInteger('noted_at').notNullable()
  })

  // `legalHold set all`: every account, including the ones that appear later, is under legal hold while this
  // table has its one row. Per-account holds stay in accounts.legal_hold.
  await db.schema.createTable('legal_hold_all', t => {
    t.integer('id').primary()
    t.bigInteger('since').notNullable()
  })
}

async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('legal_hold_all')
  await db.schema.dropTableIfExists('blob_purge_candidates')
}

export const purgeCandidatesLegalHold: CatalogMigration = {name: '0002-purge-candidates-legal-hold', up, down}
