import type {Catalog} from '../catalog/catalog.js'
import type {AccountEntry} from '../history/account-lookup.js'
import type {HistoryTime} from '../history/history-time.js'
import type {ProgressSink} from '../progress.js'

import {isoTime} from '../history/history-time.js'
import {recentMassDeletion} from '../history/mass-deletion.js'

/** The --json field of a restore at `last` of an account that a recent mass deletion (nearly) emptied. */
export interface EmptiedAccount extends Record<string, unknown> {
  /** Items the account holds now, and of those it held just before the mass deletion, how many are gone. */
  remaining: number
  itemsBefore: number
  deleted: number
  /** First and last deletion of the mass deletion (ISO). */
  deletedFrom: string
  deletedTo: string
  /** The last moment before it (ISO), which is also the date argument to pass instead of last. */
  lastMomentBefore: string
}

/**
 * A restore at `last` restores the newest state faithfully, even when that state is what a mass deletion left. Said
 * as a warning (the restore goes on: `last` may be what was meant), with the date to give instead; null otherwise.
 */
export async function emptiedAccountWarning(
  catalog: Catalog,
  account: AccountEntry,
  at: HistoryTime,
  progress: ProgressSink,
): Promise<EmptiedAccount | null> {
  if (at !== 'last') return null
  const found = await recentMassDeletion(catalog, account)
  if (!found) return null
  const emptied: EmptiedAccount = {
    remaining: found.remaining,
    itemsBefore: found.itemsBefore,
    deleted: found.deleted,
    deletedFrom: isoTime(found.startedAt),
    deletedTo: isoTime(found.endedAt),
    lastMomentBefore: isoTime(found.lastMomentBefore),
  }
  progress({kind: 'warning', account: account.name, message: describeEmptied(account.name, emptied)})
  return emptied
}

/** One line: what the newest state is, what happened, and the date to restore at instead. */
export function describeEmptied(account: string, emptied: EmptiedAccount): string {
  const state = emptied.remaining === 0 ? 'empty' : `nearly empty (${emptied.remaining} item${emptied.remaining === 1 ? '' : 's'})`
  return `the newest state of ${account} is ${state}: ${emptied.deleted} of its ${emptied.itemsBefore} items were deleted `
    + `from ${emptied.deletedFrom} to ${emptied.deletedTo}; the last moment before that is ${emptied.lastMomentBefore}: `
    + `to restore it, give the date ${emptied.lastMomentBefore} instead of last`
}
