import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

async function up(db: Knex): Promise<void> {
  // An operation's scan of an account (SmartScan, doAccountScan, the scan before a restore) holds a lease here while
  // it runs, renewed as it goes: the daemon's realtime capture leaves the account to it meanwhile. Without it, on a
  // busy account the capture's short cycles committed between the scan's batches and the scan, conflicting each
  // time, gave up (scan-lease.ts).
  await db.schema.createTable('account_scan_leases', t => {
    t.string('account', 320).primary()
    t.string('holder', 128).notNullable()
    t.bigInteger('expires_at').notNullable()
  })
}

async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('account_scan_leases')
}

export const accountScanLeases: CatalogMigration = {name: '0003-account-scan-leases', up, down}
