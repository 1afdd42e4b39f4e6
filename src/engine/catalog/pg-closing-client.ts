import type {Knex} from 'knex'

import pg from 'pg'

/**
 * A pg Client, except that a connection that fails before it is ready closes its socket. pg leaves it open when the
 * failure is its own (no password to answer the server's SCRAM or MD5 request): the server then holds the half-open
 * session until its authentication_timeout, a minute by default, and the CLI, its one-line error already decided,
 * could not exit before.
 */
function closingClient(config: pg.ClientConfig | string): pg.Client {
  const client = new pg.Client(config)
  const connect = client.connect.bind(client)
  // knex connects without a callback, through the promise.
  client.connect = (() => connect().catch((error: unknown) => {
    client.connection.stream.destroy()
    throw error
  })) as pg.Client['connect']
  return client
}

/**
 * Makes a knex instance of the pg client open its connections with closingClient (knex has no option for it; it
 * calls closingClient with new, which returns the client made).
 */
export function closeFailedConnections(db: Knex): void {
  const client = db.client as {driver: typeof pg}
  client.driver = Object.assign(Object.create(client.driver) as typeof pg, {Client: closingClient})
}
