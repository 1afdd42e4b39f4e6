import {Flags} from '@oclif/core'

import type {PointInTime} from '../engine/point-in-time.js'

import {
  parseBoolean, parseList, parseNonNegativeInteger, parsePointInTime, parseRetentionDays,
} from './param-values.js'

// Optional Carbonio parameters, declared as oclif option flags so that both `name value` and `--name value`
// work. Each one parses its value with the shared rules in param-values.ts.

export const booleanParam = Flags.custom<boolean>({
  helpValue: 'true|false',
  parse: async (input, _context, flag) => parseBoolean(input, flag.name),
})

export const integerParam = Flags.custom<number>({
  helpValue: '<number>',
  parse: async (input, _context, flag) => parseNonNegativeInteger(input, flag.name),
})

/** Days of retention, bounded as ZxBackup_DataRetentionDays is. */
export const retentionDaysParam = Flags.custom<number>({
  helpValue: '<number>',
  parse: async (input, _context, flag) => parseRetentionDays(input, flag.name),
})

export const listParam = Flags.custom<string[]>({
  helpValue: '<a,b,...>',
  parse: async input => parseList(input),
})

export const dateParam = Flags.custom<PointInTime>({
  helpValue: '"dd/MM/yyyy HH:mm:ss"|<ISO 8601>|last|first',
  parse: async (input, _context, flag) => parsePointInTime(input, flag.name),
})

/** A restore's moment: one state, so a date or last (first names no moment of the account as a whole). */
export const restoreDateParam = Flags.custom<PointInTime>({
  helpValue: '"dd/MM/yyyy HH:mm:ss"|<ISO 8601>|last',
  parse: async (input, _context, flag) => parsePointInTime(input, flag.name, {keywords: ['last']}),
})

export const textParam = Flags.custom<string>({
  helpValue: '<value>',
  parse: async input => input,
})
