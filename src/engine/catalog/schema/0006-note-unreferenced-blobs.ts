import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // Before 0002 a purge kept the blobs whose last reference it removed in memory only: one killed or stopped between
  // removing the items and removing their blobs, or one that passed over a blob referenced while it ran, left blob rows
  // and files that nothing references and no purge would ever look at again. After the upgrade the purge works only
  // from blob_purge_candidates, so they stayed for good (and doCoherencyCheck called the backup not coherent for them).
  // List every unreferenced blob once: the purge then removes it as it does any other, after the same hour of grace.
  await db.raw(`INSERT INTO blob_purge_candidates (digest, noted_at)
    SELECT b.digest, ? FROM blobs b
    WHERE NOT EXISTS (SELECT 1 FROM item_revisions r WHERE r.blob_digest = b.digest)
    ON CONFLICT (digest) DO NOTHING`, [Date.now()])
}

async function down(): Promise<void> {}

export const noteUnreferencedBlobs: CatalogMigration = {name: '0006-note-unreferenced-blobs', up, down}
