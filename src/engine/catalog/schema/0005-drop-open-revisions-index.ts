import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // Catalogs of release 0baada6 have the index of open revisions its retired 0003 created; the scanner no longer reads
  // it and every revision written would still keep it up to date (06ca11c: a third more CPU for the ingest).
  await db.raw('DROP INDEX IF EXISTS item_revisions_open')
}

async function down(): Promise<void> {}

export const dropOpenRevisionsIndex: CatalogMigration = {name: '0005-drop-open-revisions-index', up, down}
