import type {Knex} from 'knex'

/** The catalog: every piece of backup metadata, behind knex so SQLite and PostgreSQL run the same code. */
export interface Catalog {
  readonly db: Knex
  readonly dialect: 'postgres' | 'sqlite'
  /** The backup home: blob store, quarantine and (for SQLite) the catalog file. */
  readonly home: string
  /** Where the catalog is, for messages: a file path or a URL with the password removed. */
  readonly location: string
  close(): Promise<void>
}

/** The SQLite catalog's file name in the backup home. */
export const CATALOG_FILE = 'catalog.sqlite'

/** Milliseconds since the epoch: the one time representation in the catalog, identical on both dialects. */
export function now(): number {
  return Date.now()
}
