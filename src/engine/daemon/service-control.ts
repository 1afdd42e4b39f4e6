import type {Catalog} from '../catalog/catalog.js'

import {setAttribute} from '../config/config-store.js'
import {UsageError} from '../errors.js'
import {SERVICE_NAMES, type ServiceName} from './services.js'

const SWITCHES: Record<ServiceName, {attribute: string; off: string; on: string}> = {
  'backup-realtime': {attribute: 'ZxBackup_RealTimeScanner', on: 'TRUE', off: 'FALSE'},
  // A scheduled service is switched by its job's enabled attribute, which keeps the job's pattern.
  'purge-cron': {attribute: 'backupPurgeSchedulerEnabled', on: 'true', off: 'false'},
  'coherency-cron': {attribute: 'backupCoherencyCheckSchedulerEnabled', on: 'true', off: 'false'},
  'smartscan-cron': {attribute: 'backupSmartScanSchedulerEnabled', on: 'true', off: 'false'},
}

export function parseServiceName(word: string): ServiceName {
  const name = SERVICE_NAMES.find(n => n === word.toLowerCase())
  if (!name) throw new UsageError(`unknown service '${word}': use one of ${SERVICE_NAMES.join(', ')}`)
  return name
}

/**
 * Starting or stopping a service is the same as switching its attribute at server level, so the running daemon
 * follows it (within its reconcile interval) and the choice survives a restart.
 */
export async function switchService(catalog: Catalog, server: string, name: ServiceName, on: boolean): Promise<{attribute: string; value: string}> {
  const control = SWITCHES[name]
  const value = on ? control.on : control.off
  await setAttribute(catalog, {level: 'server', target: server}, control.attribute, value)
  return {attribute: control.attribute, value}
}
