import type {Knex} from 'knex'

/**
 * A moment of the history as the readers take it: milliseconds since the epoch, or 'last' for the current state
 * (the open revisions, whatever their time). A revision is valid at T when valid_from <= T < valid_to, or when
 * valid_to is NULL (still current): the state at T includes every transaction whose time is <= T.
 */
export type HistoryTime = 'last' | number

/** Restricts a revision table (by its alias) to the revisions valid at `at`. */
export function whereValidAt(query: Knex.QueryBuilder, alias: string, at: HistoryTime): Knex.QueryBuilder {
  if (at === 'last') return query.whereNull(`${alias}.valid_to`)
  return query
  .where(`${alias}.valid_from`, '<=', at)
  .andWhere(inner => {
    inner.whereNull(`${alias}.valid_to`).orWhere(`${alias}.valid_to`, '>', at)
  })
}

/** The same rule for a revision already in memory. */
export function isValidAt(validFrom: number, validTo: null | number, at: HistoryTime): boolean {
  if (at === 'last') return validTo === null
  return validFrom <= at && (validTo === null || at < validTo)
}

/** ISO 8601 in UTC with milliseconds: how every reader prints catalog times. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString()
}

export function isoOrNull(ms: null | number | undefined): null | string {
  return ms === null || ms === undefined ? null : isoTime(ms)
}

/** How a history time is named in messages and payloads. */
export function describeHistoryTime(at: HistoryTime): string {
  return at === 'last' ? 'last' : isoTime(at)
}
