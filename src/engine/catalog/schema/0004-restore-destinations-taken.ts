import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // A doRestoreOnNewAccount run that found its destination empty (or completed an unfinished run into it) and so may
  // have written there. Only such a run's messages are ones a rerun may take for its own and complete without force
  // true (unfinished-restore.ts): a run that failed or was stopped before that point wrote nothing, and what the
  // destination holds belongs to someone else.
  await db.schema.createTable('restore_destinations_taken', t => {
    t.string('operation_uuid', 36).primary()
    t.string('destination', 320).notNullable()
    t.bigInteger('taken_at').notNullable()
    // The moment of the source the run restores (for last, when it took the destination): a rerun of last completes
    // it at that moment, not at a later last.
    t.bigInteger('restored_at').notNullable()
  })
}

async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('restore_destinations_taken')
}

export const restoreDestinationsTaken: CatalogMigration = {name: '0004-restore-destinations-taken', up, down}
