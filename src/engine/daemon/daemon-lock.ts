import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {processAlive, THIS_HOST} from '../operations/process-liveness.js'
import {SERVICE_STALE_MS} from './services.js'

/**
 * The services row naming the one daemon of a server. Not a service: getServices lists SERVICE_NAMES only. Kept apart
 * from backup-realtime's row, whose state and heartbeat tell the next daemon since when the scanner was off.
 */
const DAEMON_ROW = 'daemon'

/** The daemon that holds a server, as its row says. */
export interface DaemonHolder {
  host: string
  pid: number
  heartbeatAt: number
}

interface DaemonRow {
  state: string
  host: null | string
  pid: null | number | string
  heartbeat_at: number | string
}

/**
 * Makes this process the daemon of `server`, or returns the live daemon that already is. A holder counts as gone
 * once it stopped cleanly, stopped heartbeating (SERVICE_STALE_MS), or, on this host, once its pid is gone (a kill -9
 * does not block the next start). The claim is a compare-and-swap on the row as read, so of two daemons starting at
 * once exactly one wins, on SQLite and PostgreSQL alike.
 */
export async function claimDaemon(catalog: Catalog, server: string): Promise<DaemonHolder | undefined> {
  const {db} = catalog
  // Always a row to compare against: the claim is then a single conditional UPDATE.
  await db('services')
  .insert({
    server, name: DAEMON_ROW, state: 'stopped', host: null, pid: null, detail: '{}', heartbeat_at: 0,
  })
  .onConflict(['server', 'name'])
  .ignore()
  for (let attempt = 0; attempt < 20; attempt++) {
    const row: DaemonRow | undefined = await db('services').where({server, name: DAEMON_ROW}).first('state', 'host', 'pid', 'heartbeat_at')
    if (!row) continue
    const holder = {host: row.host ?? '', pid: Number(row.pid), heartbeatAt: Number(row.heartbeat_at)}
    if (row.state === 'running' && holderAlive(holder, now())) return holder
    const claimed = await asRead(db('services').where({server, name: DAEMON_ROW}), row).update({
      state: 'running', host: THIS_HOST, pid: process.pid, detail: '{}', heartbeat_at: now(),
    })
    if (claimed === 1) return undefined
    // Another daemon changed the row between the read and the update: look again at who holds it now.
  }

  throw new Error(`the daemon row of server ${server} keeps changing: another daemon is starting or stopping; try again`)
}

/** The claim's heartbeat: false once another daemon took the server over (this one stopped heartbeating too long). */
export async function keepDaemon(catalog: Catalog, server: string): Promise<boolean> {
  const kept = await mine(catalog.db('services').where({server, name: DAEMON_ROW})).update({heartbeat_at: now()})
  return kept === 1
}

/** A clean stop: the next daemon may start at once, on any host. */
export async function releaseDaemon(catalog: Catalog, server: string): Promise<void> {
  await mine(catalog.db('services').where({server, name: DAEMON_ROW})).update({state: 'stopped', heartbeat_at: now()})
}

/** Who holds the server now (after this daemon lost it). */
export async function daemonHolder(catalog: Catalog, server: string): Promise<DaemonHolder | undefined> {
  const row: DaemonRow | undefined = await catalog.db('services').where({server, name: DAEMON_ROW}).first('state', 'host', 'pid', 'heartbeat_at')
  return row?.state === 'running' ? {host: row.host ?? '', pid: Number(row.pid), heartbeatAt: Number(row.heartbeat_at)} : undefined
}

function mine(query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query.where({state: 'running', host: THIS_HOST, pid: process.pid})
}

/** The row exactly as it was read (null columns compared as such). */
function asRead(query: Knex.QueryBuilder, row: DaemonRow): Knex.QueryBuilder {
  query.where({state: row.state, heartbeat_at: row.heartbeat_at})
  if (row.host === null) query.whereNull('host')
  else query.where({host: row.host})
  if (row.pid === null) query.whereNull('pid')
  else query.where({pid: row.pid})
  return query
}

function holderAlive(holder: DaemonHolder, at: number): boolean {
  // A daemon heartbeats its services, so it is judged stale on their clock, not on the operations' one.
  if (at - holder.heartbeatAt > SERVICE_STALE_MS) return false
  return holder.host !== THIS_HOST || processAlive(holder.pid)
}
