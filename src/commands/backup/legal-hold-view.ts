import {Args} from '@oclif/core'

import type {LegalHoldState} from '../../engine/legal-hold/legal-hold.js'

import {parseList} from '../../cli/param-values.js'
import {type HoldTarget, parseHoldTarget} from '../../engine/legal-hold/hold-target.js'

/** The one argument of every legalHold verb. */
export const holdTargetArg = {
  accounts: Args.string({description: 'accounts, comma-separated, or all', required: true}),
}

export function holdTargetOf(raw: string): HoldTarget {
  return parseHoldTarget(parseList(raw))
}

/**
 * One line for all accounts, then one per account: held or not, and why. After set or unset of all, a count
 * instead of the whole list (get all lists it).
 */
export function describeLegalHold(state: LegalHoldState, target: HoldTarget, list = target.kind === 'accounts'): string[] {
  const lines = [state.all ? `all accounts: held since ${state.allSince} (accounts that appear later too)` : 'all accounts: not held as a whole']
  if (!list) {
    const held = state.accounts.filter(account => account.held).length
    lines.push(`${state.accounts.length} accounts in the backup, ${held} held`)
    return lines
  }

  for (const account of state.accounts) {
    const why = account.by === 'all' ? ' (by the hold on all accounts)' : ''
    lines.push(`${account.account}${account.deleted ? ' (deleted)' : ''}: ${account.held ? `held${why}` : 'not held'}`)
  }

  return lines
}
