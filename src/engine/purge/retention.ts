import type {Catalog} from '../catalog/catalog.js'

import {serverConfig} from '../config/config-store.js'

export const DAY_MS = 86_400_000

export interface Retention {
  /** Days a deleted item is kept; 0 = for ever. */
  itemDays: number
  /** Days a deleted account is kept; 0 = for ever. */
  accountDays: number
  /** Where itemDays came from, for the report. */
  itemSource: 'purgeDays' | 'ZxBackup_DataRetentionDays'
}

/**
 * The retention in force for one server, read from its configuration (server over global); `purgeDays`
 * overrides the item retention for one run.
 */
export async function resolveRetention(catalog: Catalog, server: string, purgeDays?: number): Promise<Retention> {
  const config = await serverConfig(catalog, server)
  return {
    itemDays: purgeDays ?? Number(config.get('ZxBackup_DataRetentionDays') ?? 30),
    accountDays: Number(config.get('backupAccountsRetentionDays') ?? 30),
    itemSource: purgeDays === undefined ? 'ZxBackup_DataRetentionDays' : 'purgeDays',
  }
}
