import type {Catalog} from '../catalog/catalog.js'
import type {AccountEntry} from './account-lookup.js'

/**
 * When the newest state of an account is (nearly) empty because most of it was just deleted, a restore at `last`
 * faithfully restores that emptiness: the administrator almost certainly wants the moment before. The rule, looking
 * back from the account's newest deletion rather than from now (an account emptied a week ago is just as empty):
 * a run of deletions within the day up to it removed at least `share` of the items the account held just before the
 * run, those were at least `minItems`, and the account now holds fewer items than were deleted in that day.
 */
export const MASS_DELETION_RULE = {
  /** Only deletions within this long before the newest one count ("recently"). */
  lookBackMs: 24 * 60 * 60 * 1000,
  /** At least this share of the items held just before the run must be gone since: most of the account. */
  share: 0.5,
  /** The account held at least this many items then: a mailbox of three messages losing two is a clean-up. */
  minItems: 5,
  /**
   * Deletions closer together than this are one run (a client emptying folder after folder), so the moment before
   * the mass deletion is before its first deletion, not in the middle of it.
   */
  pauseMs: 10 * 60 * 1000,
} as const

export interface MassDeletion {
  /** Items the account held at the last moment before the mass deletion. */
  itemsBefore: number
  /** How many of those are deleted now. */
  deleted: number
  /** Items the account holds now (survivors, and any added since). */
  remaining: number
  /** The first deletion of the mass deletion, and the account's newest deletion (ms). */
  startedAt: number
  endedAt: number
  /** The last moment before the mass deletion: the date to restore at instead of last. */
  lastMomentBefore: number
}

/** Whether the account's newest state is (nearly) empty after a recent mass deletion (MASS_DELETION_RULE), or null. */
export async function recentMassDeletion(catalog: Catalog, account: AccountEntry): Promise<MassDeletion | null> {
  const {db} = catalog
  const current = () => db('items as i').join('item_revisions as r', 'r.item_id', 'i.id').where('i.account_id', account.key).whereNull('r.valid_to')
  const newest: undefined | {at?: null | number | string} = await current().andWhere('r.deleted', true).max({at: 'r.valid_from'}).first()
  if (newest?.at === null || newest?.at === undefined) return null
  const since = Number(newest.at) - MASS_DELETION_RULE.lookBackMs

  // Items deleted (and still deleted) in the day up to the newest deletion, newest first, with when they appeared.
  const goneRows: Array<{deleted_at: number | string; first_seen: number | string}> = await current()
  .andWhere('r.deleted', true)
  .andWhere('r.valid_from', '>', since)
  .orderBy('r.valid_from', 'desc')
  .select('i.first_seen', 'r.valid_from as deleted_at')
  const gone = goneRows.map(row => ({firstSeen: Number(row.first_seen), deletedAt: Number(row.deleted_at)}))
  if (gone.length < Math.ceil(MASS_DELETION_RULE.minItems * MASS_DELETION_RULE.share)) return null
  const [{n}] = await current().andWhere('r.deleted', false).count({n: '*'})
  const remaining = Number(n)
  // More left than deleted: the newest state is not (nearly) empty, whatever happened during the day.
  if (remaining > gone.length) return null
  const live: number[] = (await current().andWhere('r.deleted', false).pluck('i.first_seen')).map(Number)

  // Each run of deletions, newest first: the moment before its first deletion is a candidate; the newest candidate
  // after which most of what the account held then is gone is the last moment before the mass deletion.
  for (let end = 0; end < gone.length;) {
    let start = end
    while (start + 1 < gone.length && gone[start].deletedAt - gone[start + 1].deletedAt <= MASS_DELETION_RULE.pauseMs) start++
    const before = gone[start].deletedAt - 1
    const deleted = gone.filter(g => g.firstSeen <= before && before < g.deletedAt).length
    const itemsBefore = deleted + live.filter(firstSeen => firstSeen <= before).length
    if (itemsBefore >= MASS_DELETION_RULE.minItems && deleted >= MASS_DELETION_RULE.share * itemsBefore) {
      return {
        itemsBefore, deleted, remaining, startedAt: gone[start].deletedAt, endedAt: gone[0].deletedAt, lastMomentBefore: before,
      }
    }

    end = start + 1
  }

  return null
}
