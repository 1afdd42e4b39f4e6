import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {THIS_HOST} from '../operations/process-liveness.js'

/** The services of the backup module, as `getServices` lists them and `doStartService` names them. */
export const SERVICE_NAMES = ['backup-realtime', 'smartscan-cron', 'purge-cron', 'coherency-cron'] as const
export type ServiceName = (typeof SERVICE_NAMES)[number]

/** A service's heartbeat older than this means the daemon that ran it is gone. */
export const SERVICE_STALE_MS = 10_000

export type ServiceState = 'disabled' | 'failing' | 'idle' | 'running' | 'stopped'

export interface ServiceReport {
  name: ServiceName
  state: ServiceState
  detail: Record<string, unknown>
}

export interface ServiceStatus extends ServiceReport {
  server: string
  host: null | string
  pid: null | number
  heartbeatAt: null | number
  /** False when the daemon stopped heartbeating: whatever it last said no longer runs. */
  alive: boolean
}

export async function reportService(catalog: Catalog, server: string, report: ServiceReport, at = now()): Promise<void> {
  await catalog.db('services')
  .insert({
    server, name: report.name, state: report.state, host: THIS_HOST, pid: process.pid, detail: JSON.stringify(report.detail), heartbeat_at: at,
  })
  .onConflict(['server', 'name'])
  .merge(['state', 'host', 'pid', 'detail', 'heartbeat_at'])
}

export async function serviceStatuses(catalog: Catalog, server: string, at = now()): Promise<ServiceStatus[]> {
  const rows = await catalog.db('services').where({server}).select()
  return SERVICE_NAMES.map(name => {
    const row = rows.find((r: {name: string}) => r.name === name)
    if (!row) return {
      name, server, state: 'stopped', detail: {message: 'the backup daemon has never run on this server'}, host: null, pid: null, heartbeatAt: null, alive: false,
    }
    const heartbeatAt = Number(row.heartbeat_at)
    const alive = at - heartbeatAt <= SERVICE_STALE_MS
    return {
      name,
      server,
      state: alive ? row.state : 'stopped',
      detail: alive ? JSON.parse(row.detail ?? '{}') : {message: `the backup daemon stopped heartbeating at ${new Date(heartbeatAt).toISOString()}`},
      host: row.host,
      pid: row.pid === null ? null : Number(row.pid),
      heartbeatAt,
      alive,
    }
  })
}

/** What a service last reported, alive or not: used at start-up to tell whether (and since when) the scanner was off. */
export async function lastReport(
  catalog: Catalog,
  server: string,
  name: ServiceName,
): Promise<undefined | {detail: Record<string, unknown>; heartbeatAt: number; host: string; pid: number; state: string}> {
  const row = await catalog.db('services').where({server, name}).first('state', 'heartbeat_at', 'detail', 'host', 'pid')
  return row
    ? {
      state: row.state, heartbeatAt: Number(row.heartbeat_at), detail: parseDetail(row.detail), host: row.host, pid: Number(row.pid),
    }
    : undefined
}

function parseDetail(text: null | string): Record<string, unknown> {
  try {
    const detail = JSON.parse(text ?? '{}')
    return detail && typeof detail === 'object' ? detail : {}
  } catch {
    return {}
  }
}
