import {UsageError} from '../errors.js'

/** What a legalHold command acts on: every account (now and later), or the accounts named. */
export type HoldTarget = {kind: 'accounts'; names: string[]} | {kind: 'all'}

/** `all` alone, or a list of accounts; `all` mixed with addresses is a mistake worth refusing. */
export function parseHoldTarget(entries: readonly string[]): HoldTarget {
  if (entries.length === 0) throw new UsageError('name the accounts (a,b,...) or all')
  const all = entries.filter(entry => entry.toLowerCase() === 'all')
  if (all.length > 0) {
    if (all.length !== entries.length) throw new UsageError('give either all or a list of accounts, not both')
    return {kind: 'all'}
  }

  return {kind: 'accounts', names: [...new Set(entries)]}
}
