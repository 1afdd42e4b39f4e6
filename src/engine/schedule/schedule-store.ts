import type {Catalog} from '../catalog/catalog.js'
import type {ScheduledJob} from './scheduled-jobs.js'

import {findAttribute} from '../config/attributes.js'
import {
  getAttribute, type ResolvedValue, setAttribute, type SetResult,
} from '../config/config-store.js'
import {describeScope, type Scope} from '../config/levels.js'
import {InvalidValue} from '../config/value-types.js'
import {serviceStatuses} from '../daemon/services.js'
import {UsageError} from '../errors.js'
import {nextRunOf} from './next-run.js'

/** One half of a schedule (its pattern or its switch) and where its value comes from. */
export interface ScheduleSetting<T> {
  attribute: string
  value: T
  /** 'default', or the level (and target) that sets it. */
  source: 'default' | Scope
  /** True when the value comes from another level or the default rather than the one asked about. */
  inherited: boolean
}

/** What the daemon on one server last said about the job's service; null when it has never run there. */
export interface DaemonView {
  state: string
  alive: boolean
  nextRun: null | string
  detail: Record<string, unknown>
}

export interface ScheduleView {
  job: string
  service: string
  operationType: string
  level: Scope['level']
  target: string
  pattern: ScheduleSetting<string>
  enabled: ScheduleSetting<boolean>
  /** When the schedule next fires (ISO 8601); null when the job is switched off. */
  nextRun: null | string
  /** At server level: that server's daemon. */
  daemon?: DaemonView | null
}

export interface ScheduleChange {
  enabled?: boolean
  pattern?: string
}

/** A job's schedule as seen from a scope: pattern, switch, where each comes from and the next run. */
export async function getSchedule(catalog: Catalog, scope: Scope, job: ScheduledJob): Promise<ScheduleView> {
  const pattern = setting(await getAttribute(catalog, scope, job.patternAttribute), value => value)
  const enabled = setting(await getAttribute(catalog, scope, job.enabledAttribute), value => value === 'true')
  const next = enabled.value ? nextRunOf(pattern.value) : null
  const view: ScheduleView = {
    job: job.name,
    service: job.service,
    operationType: job.operationType,
    level: scope.level,
    target: scope.target,
    pattern,
    enabled,
    nextRun: next ? next.toISOString() : null,
  }
  if (scope.level === 'server') view.daemon = await daemonView(catalog, scope.target, job)
  return view
}

/**
 * Sets the pattern, the switch or both at one level. Both are validated before either is stored, so a bad
 * pattern never leaves the switch changed. The running daemon follows within its reconcile interval.
 */
export async function setSchedule(
  catalog: Catalog,
  scope: Scope,
  job: ScheduledJob,
  change: ScheduleChange,
): Promise<{changed: SetResult[]; schedule: ScheduleView}> {
  if (change.enabled === undefined && change.pattern === undefined) {
    throw new UsageError(`nothing to set for ${job.name}: give enabled true|false, pattern "<cron>" or both`)
  }

  if (change.pattern !== undefined) checkPattern(job, change.pattern)
  const changed: SetResult[] = []
  if (change.pattern !== undefined) changed.push(await setAttribute(catalog, scope, job.patternAttribute, change.pattern))
  if (change.enabled !== undefined) changed.push(await setAttribute(catalog, scope, job.enabledAttribute, String(change.enabled)))
  return {changed, schedule: await getSchedule(catalog, scope, job)}
}

/** Where a setting comes from, in words: "default", "global", "server mail1.example.com". */
export function describeSource(source: ScheduleSetting<unknown>['source']): string {
  return source === 'default' ? 'default' : describeScope(source)
}

function checkPattern(job: ScheduledJob, raw: string): void {
  const {type} = findAttribute(job.patternAttribute)
  try {
    type.normalize(raw)
  } catch (error) {
    if (error instanceof InvalidValue) throw new UsageError(`invalid pattern for ${job.name}: ${error.message}; expected ${type.expected}`)
    throw error
  }
}

function setting<T>(resolved: ResolvedValue, convert: (value: string) => T): ScheduleSetting<T> {
  // Every schedule attribute has a default, so a value and a source always exist.
  if (resolved.value === null || resolved.source === null) throw new Error(`${resolved.attribute} has no value and no default`)
  return {
    attribute: resolved.attribute, value: convert(resolved.value), source: resolved.source, inherited: resolved.inherited,
  }
}

async function daemonView(catalog: Catalog, server: string, job: ScheduledJob): Promise<DaemonView | null> {
  const status = (await serviceStatuses(catalog, server)).find(s => s.name === job.service)
  if (!status || status.heartbeatAt === null) return null
  const nextRun = typeof status.detail.nextRun === 'string' ? status.detail.nextRun : null
  return {
    state: status.state, alive: status.alive, nextRun, detail: status.detail,
  }
}
