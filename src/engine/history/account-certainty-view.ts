import type {Knex} from 'knex'

/** Whether an account's realtime history can be trusted as it is, as the readers and exports report it. */
export interface Certainty {
  certain: boolean
  /** Why it is uncertain (an Empty Folder, a gap in the stream, an unknown item, the scanner having been off). */
  reason: null | string
  since: null | number
  lastScanAt: null | number
  /** For an uncertain account: what to do about it, in one sentence. */
  advice: null | string
}

export const SMARTSCAN_REQUIRED = 'a SmartScan is required: the backup may miss changes the Realtime Scanner did not see'

/** The account's certainty; an account without a row in account_state never had a reason for doubt. */
export async function certaintyOf(db: Knex, accountKey: number): Promise<Certainty> {
  const row: undefined | {certain: boolean | number; last_scan_at: null | number; reason: null | string; since: number} = await db('account_state')
  .where({account_id: accountKey})
  .first('certain', 'reason', 'since', 'last_scan_at')
  if (!row) return {
    certain: true, reason: null, since: null, lastScanAt: null, advice: null,
  }
  const certain = Boolean(row.certain)
  return {
    certain,
    reason: row.reason,
    since: Number(row.since),
    lastScanAt: row.last_scan_at === null ? null : Number(row.last_scan_at),
    advice: certain ? null : SMARTSCAN_REQUIRED,
  }
}
