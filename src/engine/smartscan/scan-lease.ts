import {randomBytes} from 'node:crypto'

import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {THIS_HOST} from '../operations/process-liveness.js'

/**
 * How long a lease outlives its last renewal: a scan killed with its lease held gives the account back to the
 * capture after this. Generous against clock differences between servers sharing a catalog.
 */
const LEASE_MS = 30_000
const RENEW_MS = 10_000

export interface ScanLease {
  /** Gives the account back to the capture at once (a lease is otherwise only renewed while its scan runs). */
  release(): Promise<void>
}

/**
 * An operation's scan of an account takes it from the daemon's realtime capture while it runs. Both synchronise the
 * account with the same cycle, each committing over the checkpoint it started from (saveCheckpoint): on a busy
 * account the capture's short cycles committed between the scan's batches, and the scan, conflicting each time, gave
 * up. The capture loses nothing by waiting: the scan commits the same changes, and the capture's next cycle starts
 * from where the scan left the checkpoint. A second scan of the same account takes the lease over; the checkpoint's
 * compare-and-set still keeps the two from applying anything twice.
 */
export async function leaseAccountScan(catalog: Catalog, account: string): Promise<ScanLease> {
  const holder = `${THIS_HOST.slice(0, 64)}:${process.pid}:${randomBytes(4).toString('hex')}`
  const write = () => catalog.db('account_scan_leases')
  .insert({account, holder, expires_at: now() + LEASE_MS})
  .onConflict('account')
  .merge()
  await write()
  // A renewal that fails (the catalog busy a moment) is retried at the next tick; meanwhile the lease still holds.
  let renewing: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    renewing = write().catch(() => {})
  }, RENEW_MS)
  timer.unref()
  return {
    async release() {
      clearInterval(timer)
      // A renewal in flight would otherwise write the lease back after it was given up.
      await renewing
      await catalog.db('account_scan_leases').where({account, holder}).delete()
    },
  }
}

/** Whether an operation's scan holds the account now: the capture then leaves it alone (leaseAccountScan). */
export async function scanHoldsAccount(catalog: Catalog, account: string): Promise<boolean> {
  const row = await catalog.db('account_scan_leases').where({account}).where('expires_at', '>', now()).first('holder')
  return row !== undefined
}
