import type {ServiceName} from '../daemon/services.js'

import {closestName} from '../config/closest-name.js'
import {UsageError} from '../errors.js'

/** A job the daemon runs on a cron schedule, and the attributes that hold its schedule. */
export interface ScheduledJob {
  /** As `carbonio backup scheduler <job>` names it (matched case-insensitively). */
  readonly name: string
  /** The daemon service that runs it (getServices lists it). */
  readonly service: ServiceName
  /** The operation type each run records (getAllOperations shows it). */
  readonly operationType: string
  readonly patternAttribute: string
  readonly enabledAttribute: string
}

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  {
    name: 'SmartScan',
    service: 'smartscan-cron',
    operationType: 'doSmartScan',
    patternAttribute: 'backupSmartScanScheduler',
    enabledAttribute: 'backupSmartScanSchedulerEnabled',
  },
  {
    name: 'purge',
    service: 'purge-cron',
    operationType: 'doPurge',
    patternAttribute: 'backupPurgeScheduler',
    enabledAttribute: 'backupPurgeSchedulerEnabled',
  },
  {
    name: 'coherencyCheck',
    service: 'coherency-cron',
    operationType: 'doCoherencyCheck',
    patternAttribute: 'backupCoherencyCheckScheduler',
    enabledAttribute: 'backupCoherencyCheckSchedulerEnabled',
  },
]

export const JOB_NAMES = SCHEDULED_JOBS.map(job => job.name)

/** Finds a job case-insensitively (Carbonio's docs write SmartScan and smartscan), or fails naming them all. */
export function findScheduledJob(word: string): ScheduledJob {
  const job = SCHEDULED_JOBS.find(j => j.name.toLowerCase() === word.toLowerCase())
  if (job) return job
  const suggestion = closestName(word, JOB_NAMES, Math.max(2, Math.floor(word.length / 3)))
  throw new UsageError(`unknown scheduled job '${word}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}: use ${JOB_NAMES.join(', ')}`)
}
