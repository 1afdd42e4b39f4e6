import type {Knex} from 'knex'
import type pg from 'pg'

import {createRequire} from 'node:module'

/**
 * A pg Client, except that a connection that fails before it is ready closes its socket. pg leaves it open when the
 * failure is its own (no password to answer the server's SCRAM or MD5 request): the server then holds the half-open
 * session until its authentication_timeout, a minute by default, and the CLI, its one-line error already decided,
 * could not exit before.
 */
function closingClient(driver: typeof pg, config: pg.ClientConfig | string): pg.Client {
  const client = new driver.Client(withPgpassLookup(config))
  const connect = client.connect.bind(client)
  // knex connects without a callback, through the promise.
  client.connect = (() => connect().catch((error: unknown) => {
    client.connection.stream.destroy()
    throw error
  })) as pg.Client['connect']
  return client
}

type PgpassLookup = (connection: unknown, answer: (password?: string) => void) => void
const pgpass = createRequire(import.meta.url)('pgpass') as PgpassLookup

/** pg calls it with its connection parameters (host, port, database, user), and takes undefined for no password. */
function pgpassLookup(connection: unknown): Promise<string | undefined> {
  return new Promise(resolve => {
    pgpass(connection, resolve)
  })
}

/**
 * A URL without a password takes it from ~/.pgpass (PGPASSFILE), as libpq does and as the README says. pg 8 does that
 * itself but warns, on every command, that it will stop (a three-line DeprecationWarning in every cron mail): the
 * lookup it asks for instead is the same pgpass module, given as a password function.
 */
function withPgpassLookup(config: pg.ClientConfig | string): pg.ClientConfig {
  const settings = typeof config === 'string' ? {connectionString: config} : config
  if (settings.password || process.env.PGPASSWORD || settings.connectionString) return settings
  return {...settings, password: pgpassLookup as () => Promise<string>}
}

/**
 * Makes a knex instance of the pg client open its connections with closingClient (knex has no option for it; it
 * calls closingClient with new, which returns the client made).
 */
export function closeFailedConnections(db: Knex): void {
  const client = db.client as {driver: typeof pg}
  const {driver} = client
  // A function, not an arrow: knex calls it with new.
  function Client(config: pg.ClientConfig | string): pg.Client {
    return closingClient(driver, config)
  }

  client.driver = Object.assign(Object.create(driver) as typeof pg, {Client})
}
