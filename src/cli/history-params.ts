import {Flags} from '@oclif/core'

import type {PointInTime} from '../engine/point-in-time.js'

import {ITEM_TYPES} from '../engine/appserver/transaction.js'
import {UsageError} from '../engine/errors.js'
import {SEARCH_FILTERS, type SearchFilter} from '../engine/history/item-search.js'
import {parseExactDate, parsePointInTime} from './param-values.js'

// Parameters of the history readers (getItem, doItemSearch, getAvailableAccounts), with the shared date rules of
// param-values.ts and the keywords each command accepts.

/** A date, or last, first or all: the states of an item to show. */
export const historyDateParam = Flags.custom<PointInTime>({
  helpValue: '"dd/MM/yyyy HH:mm:ss"|<ISO 8601>|last|first|all',
  parse: async (input, _context, flag) => parsePointInTime(input, flag.name, {keywords: ['last', 'first', 'all']}),
})

/** An exact date (a bound of a search): the keywords mean nothing there. */
export const exactDateParam = Flags.custom<number>({
  helpValue: '"dd/MM/yyyy HH:mm:ss"|<ISO 8601>',
  async parse(input, _context, flag) {
    return parseExactDate(input, flag.name)
  },
})

/** A date or `last` (now): the moment at which accounts are listed. */
export const momentParam = Flags.custom<'last' | number>({
  helpValue: '"dd/MM/yyyy HH:mm:ss"|<ISO 8601>|last',
  async parse(input, _context, flag) {
    const point = parsePointInTime(input, flag.name, {keywords: ['last']})
    return point.kind === 'at' ? point.at : 'last'
  },
})

export const itemTypeParam = Flags.custom<string>({
  helpValue: ITEM_TYPES.join('|'),
  async parse(input, _context, flag) {
    const type = input.trim().toLowerCase()
    if (!(ITEM_TYPES as readonly string[]).includes(type)) throw new UsageError(`${flag.name} must be one of ${ITEM_TYPES.join(', ')}, not '${input}'`)
    return type
  },
})

export const searchFilterParam = Flags.custom<SearchFilter>({
  helpValue: SEARCH_FILTERS.join('|'),
  async parse(input, _context, flag) {
    const filter = input.trim().toLowerCase() as SearchFilter
    if (!SEARCH_FILTERS.includes(filter)) throw new UsageError(`${flag.name} must be one of ${SEARCH_FILTERS.join(', ')}, not '${input}'`)
    return filter
  },
})
