import type {Knex} from 'knex'

import type {CatalogMigration} from '../migrations.js'

// Conventions, held on both dialects: times are BIGINT milliseconds since the epoch; JSON is TEXT that the
// engine (de)serialises; history tables are append-only: a new state is a new row, and the only update ever
// made to a revision is closing its `valid_to`. A NULL `valid_to` means "still the current state".

async function up(db: Knex): Promise<void> {
  await db.schema.createTable('domains', t => {
    t.increments('id').primary()
    t.string('name', 255).notNullable().unique()
    t.bigInteger('first_seen').notNullable()
    t.bigInteger('deleted_at').nullable()
  })
  await db.schema.createTable('domain_revisions', t => {
    t.bigIncrements('id').primary()
    t.integer('domain_id').notNullable().references('domains.id')
    t.bigInteger('valid_from').notNullable()
    t.bigInteger('valid_to').nullable()
    t.string('operation', 32).notNullable()
    t.text('settings').notNullable()
    t.index(['domain_id', 'valid_from'])
  })
  await db.schema.createTable('cos', t => {
    t.increments('id').primary()
    t.string('name', 255).notNullable().unique()
    t.bigInteger('first_seen').notNullable()
    t.bigInteger('deleted_at').nullable()
  })
  await db.schema.createTable('cos_revisions', t => {
    t.bigIncrements('id').primary()
    t.integer('cos_id').notNullable().references('cos.id')
    t.bigInteger('valid_from').notNullable()
    t.bigInteger('valid_to').nullable()
    t.string('operation', 32).notNullable()
    t.text('settings').notNullable()
    t.index(['cos_id', 'valid_from'])
  })

  // An account's identity outlives renames: `name` is its current address, revisions keep the old ones.
  await db.schema.createTable('accounts', t => {
    t.increments('id').primary()
    t.string('name', 320).notNullable().unique()
    t.string('remote_id', 255).nullable()
    t.integer('domain_id').nullable().references('domains.id')
    t.string('cos_name', 255).nullable()
    t.string('server', 255).nullable()
    t.bigInteger('first_seen').notNullable()
    t.bigInteger('deleted_at').nullable()
    t.boolean('legal_hold').notNullable().defaultTo(false)
    t.index(['deleted_at'])
  })
  await db.schema.createTable('account_revisions', t => {
    t.bigIncrements('id').primary()
    t.integer('account_id').notNullable().references('accounts.id')
    t.bigInteger('valid_from').notNullable()
    t.bigInteger('valid_to').nullable()
    t.string('operation', 32).notNullable()
    t.string('name', 320).notNullable()
    t.boolean('deleted').notNullable().defaultTo(false)
    t.text('settings').notNullable()
    t.index(['account_id', 'valid_from'])
  })

  await db.schema.createTable('folders', t => {
    t.bigIncrements('id').primary()
    t.integer('account_id').notNullable().references('accounts.id')
    // The connector's stable id for the folder (a Carbonio folder id, or an IMAP mailbox key).
    t.string('remote_id', 512).notNullable()
    t.bigInteger('first_seen').notNullable()
    t.unique(['account_id', 'remote_id'])
  })
  await db.schema.createTable('folder_revisions', t => {
    t.bigIncrements('id').primary()
    t.bigInteger('folder_id').notNullable().references('folders.id')
    t.bigInteger('valid_from').notNullable()
    t.bigInteger('valid_to').nullable()
    t.string('operation', 32).notNullable()
    t.string('path', 1024).notNullable()
    t.string('parent_remote_id', 512).nullable()
    t.string('view', 32).nullable()
    t.boolean('deleted').notNullable().defaultTo(false)
    t.text('metadata').notNullable()
    t.bigInteger('txn_seq').nullable()
    t.index(['folder_id', 'valid_from'])
    t.index(['valid_to'])
  })

  await db.schema.createTable('blobs', t => {
    // sha256 hex of the uncompressed content: the name of the file under items/<2 hex>/.
    t.string('digest', 64).primary()
    t.bigInteger('size').notNullable()
    t.bigInteger('stored_size').nullable()
    // false in blobless mode or when the content was already gone: the revision keeps only the reference.
    t.boolean('stored').notNullable().defaultTo(false)
    t.bigInteger('created_at').notNullable()
    // Purge never removes a blob referenced after it started: a concurrent scanner bumps this first.
    t.bigInteger('last_referenced_at').notNullable()
  })

  await db.schema.createTable('items', t => {
    t.bigIncrements('id').primary()
    t.integer('account_id').notNullable().references('accounts.id')
    t.string('remote_id', 255).notNullable()
    t.string('type', 16).notNullable()
    t.bigInteger('first_seen').notNullable()
    t.unique(['account_id', 'remote_id'])
  })
  await db.schema.createTable('item_revisions', t => {
    t.bigIncrements('id').primary()
    t.bigInteger('item_id').notNullable().references('items.id')
    t.bigInteger('valid_from').notNullable()
    t.bigInteger('valid_to').nullable()
    t.string('operation', 32).notNullable()
    t.string('folder_remote_id', 512).nullable()
    t.text('flags').notNullable()
    t.text('tags').notNullable()
    t.text('metadata').notNullable()
    t.string('blob_digest', 64).nullable().references('blobs.digest')
    t.bigInteger('size').nullable()
    // Where the AppServer keeps the content (a store path, an IMAP mailbox/UID): blobless restores read it.
    t.text('locator').nullable()
    t.boolean('content_missing').notNullable().defaultTo(false)
    t.boolean('deleted').notNullable().defaultTo(false)
    t.bigInteger('txn_seq').nullable()
    t.index(['item_id', 'valid_from'])
  })
  // Partial indexes: most revisions are live and many carry no blob, and every index costs the scanner on every
  // insert. Purge finds deleted states older than the cutoff; purge and the coherency check find who references
  // a blob.
  await db.raw('CREATE INDEX item_revisions_deleted_since ON item_revisions (valid_from) WHERE deleted = true AND valid_to IS NULL')
  await db.raw('CREATE INDEX item_revisions_blob ON item_revisions (blob_digest) WHERE blob_digest IS NOT NULL')

  // The backup module's operations: one FIFO queue, watched and stopped from other shells.
  await db.schema.createTable('operations', t => {
    t.bigIncrements('seq').primary()
    t.string('uuid', 36).notNullable().unique()
    t.string('type', 64).notNullable()
    t.string('state', 16).notNullable()
    t.string('server', 255).notNullable()
    t.string('host', 255).notNullable()
    t.integer('pid').notNullable()
    t.text('parameters').notNullable()
    t.text('progress').notNullable()
    t.text('result').nullable()
    t.text('error').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('started_at').nullable()
    t.bigInteger('ended_at').nullable()
    t.bigInteger('heartbeat_at').notNullable()
    t.string('stop_requested', 16).nullable()
    t.index(['state', 'seq'])
  })

  await db.schema.createTable('config', t => {
    t.string('level', 16).notNullable()
    // '' for the global level, else the server name, domain, cos or account address.
    t.string('target', 320).notNullable()
    t.string('attribute', 128).notNullable()
    t.text('value').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.primary(['level', 'target', 'attribute'])
  })

  await db.schema.createTable('checkpoints', t => {
    t.string('connector', 64).notNullable()
    // What the position covers: '' for a whole feed (redolog), an account, or account + folder for IMAP.
    t.string('scope', 1024).notNullable()
    t.text('position').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.primary(['connector', 'scope'])
  })

  await db.schema.createTable('account_state', t => {
    t.integer('account_id').primary().references('accounts.id')
    // false after an Empty Folder, a gap in the stream or the scanner having been off: SmartScan first.
    t.boolean('certain').notNullable().defaultTo(true)
    t.text('reason').nullable()
    t.bigInteger('since').notNullable()
    t.bigInteger('last_scan_at').nullable()
  })

  // Bad transactions are recorded, never silently skipped, and never stop the ones after them.
  await db.schema.createTable('ingest_errors', t => {
    t.bigIncrements('id').primary()
    t.string('connector', 64).notNullable()
    t.string('source', 1024).notNullable()
    t.bigInteger('line').nullable()
    t.string('account', 320).nullable()
    t.text('reason').notNullable()
    t.text('raw').nullable()
    t.bigInteger('recorded_at').notNullable()
  })

  // The daemon's services report here so `getServices` in another shell can tell what runs.
  await db.schema.createTable('services', t => {
    t.string('server', 255).notNullable()
    t.string('name', 64).notNullable()
    t.string('state', 16).notNullable()
    t.string('host', 255).nullable()
    t.integer('pid').nullable()
    t.text('detail').nullable()
    t.bigInteger('heartbeat_at').notNullable()
    t.primary(['server', 'name'])
  })

  // At most one running operation per catalog: the queue's guarantee, enforced by the database itself so
  // that two processes racing to start cannot both win (a partial unique index works on both dialects).
  await db.raw('CREATE UNIQUE INDEX operations_one_running ON operations (state) WHERE state = \'running\'')
}

async function down(db: Knex): Promise<void> {
  for (const table of [
    'services',
    'ingest_errors',
    'account_state',
    'checkpoints',
    'config',
    'operations',
    'item_revisions',
    'items',
    'blobs',
    'folder_revisions',
    'folders',
    'account_revisions',
    'accounts',
    'cos_revisions',
    'cos',
    'domain_revisions',
    'domains',
  ]) {
    await db.schema.dropTableIfExists(table)
  }
}

export const initialSchema: CatalogMigration = {name: '0001-initial-schema', up, down}
