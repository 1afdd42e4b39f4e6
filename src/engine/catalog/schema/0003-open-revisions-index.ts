import type {CatalogMigration} from '../migrations.js'

// Retired. Release 0baada6 shipped a migration of this name that created the index item_revisions_open, and 06ca11c
// removed it (it cost the ingest a third more CPU and sped nothing up). Catalogs of that release still list it as
// done, and knex refuses to migrate a catalog that lists a migration it does not know ("the migration directory is
// corrupt"): the upgraded plugin could not open the backup at all. The name stays known so they open; doing nothing
// here, it adds nothing to other catalogs, and 0005 drops the index where that release created it.
async function nothing(): Promise<void> {}

export const openRevisionsIndexRetired: CatalogMigration = {name: '0003-open-revisions-index', up: nothing, down: nothing}
