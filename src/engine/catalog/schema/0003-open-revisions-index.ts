import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // Each item's open revision, with what a scan asks of it before reading it whole: whether it is deleted, its
  // folder and where the AppServer has it. A SmartScan of a changed folder and an Empty Folder in the redolog find
  // the items of an account's folders here (items by account, then this index by item, never the revision rows);
  // through (item_id, valid_from) they read every revision row of every item of the account, which made the catalog
  // most of an incremental SmartScan. Partial, so it holds one entry per item: a new revision enters it and the one
  // it closes leaves. valid_to, NULL in every entry, is there because SQLite does not take a column's value from the
  // index's WHERE: without it a query naming valid_to would read the revision row after all.
  await db.raw('CREATE INDEX item_revisions_open ON item_revisions (item_id, deleted, folder_remote_id, locator, valid_to) WHERE valid_to IS NULL')
}

async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX item_revisions_open')
}

export const openRevisionsIndex: CatalogMigration = {name: '0003-open-revisions-index', up, down}
