import type {PointInTime} from '../engine/point-in-time.js'

import {MAX_RETENTION_DAYS} from '../engine/config/value-types.js'
import {UsageError} from '../engine/errors.js'

/** `true|false`, as Carbonio writes booleans (case-insensitive, since LDAP-era docs write TRUE/FALSE). */
export function parseBoolean(raw: string, name: string): boolean {
  const word = raw.trim().toLowerCase()
  if (word === 'true') return true
  if (word === 'false') return false
  throw new UsageError(`${name} must be true or false, not '${raw}'`)
}

/** Comma-separated lists; empty entries from "a,,b" or a trailing comma are dropped. */
export function parseList(raw: string): string[] {
  return raw
  .split(',')
  .map(entry => entry.trim())
  .filter(entry => entry !== '')
}

export function parseNonNegativeInteger(raw: string, name: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name} must be a whole number of 0 or more, not '${raw}'`)
  return Number(raw.trim())
}

/**
 * A retention in days, within the bounds ZxBackup_DataRetentionDays takes: a larger one is a typo, and one past
 * about 270,000 years puts the purge's cutoff before the earliest date JavaScript has, so the purge failed with
 * 'Invalid time value' after its operation had been created.
 */
export function parseRetentionDays(raw: string, name: string): number {
  const days = parseNonNegativeInteger(raw, name)
  if (days > MAX_RETENTION_DAYS) throw new UsageError(`${name} must be at most ${MAX_RETENTION_DAYS} days (0 = infinite), not '${raw}'`)
  return days
}

const CARBONIO_DATE = /^(\d{2})\/(\d{2})\/(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/
/** Year, month, day, then optionally hour, minute, second, fraction and zone (Z or an offset). */
const ISO_DATE
  = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

type DateKeyword = 'all' | 'first' | 'last'

export interface PointInTimeRules {
  /** The keywords this parameter takes (default last and first); any other is refused here, naming these. */
  keywords?: readonly DateKeyword[]
  /**
   * Whether a date after now makes sense (a search bound). Elsewhere it is refused: a backup holds no future, and a
   * mistyped year (2030 for 2026) would otherwise quietly mean `last`.
   */
  future?: boolean
}

/** A minute of grace for a clock a little ahead of the server's, or a moment typed to the minute. */
const FUTURE_GRACE_MS = 60_000

/**
 * Dates as Carbonio takes them: "dd/MM/yyyy HH:mm:ss" in the server's local time, ISO 8601 (with milliseconds
 * and a zone, or local when it has none), or the keywords the parameter takes (last, first, all).
 */
export function parsePointInTime(raw: string, name: string, rules: PointInTimeRules = {}): PointInTime {
  const keywords = rules.keywords ?? ['last', 'first']
  const keyword = raw.trim().toLowerCase()
  if (keyword === 'last' || keyword === 'first' || keyword === 'all') {
    if (!keywords.includes(keyword)) throw new UsageError(`${name} takes a date${orKeywords(keywords)}, not '${raw}'`)
    return {kind: keyword}
  }

  return {kind: 'at', at: dateAt(raw, name, keywords, rules.future ?? false)}
}

/** An exact date, no keyword (a bound of a search, where a date after now is fine). */
export function parseExactDate(raw: string, name: string): number {
  return dateAt(raw, name, [], true)
}

function dateAt(raw: string, name: string, keywords: readonly DateKeyword[], future: boolean): number {
  const text = raw.trim()
  const at = parseCarbonioDate(text, name) ?? parseIsoDate(text, name)
  if (at === undefined) {
    throw new UsageError(`${name} '${raw}' is not a date: use "dd/MM/yyyy HH:mm:ss", ISO 8601 (2026-11-26T09:30:00.000Z)${orKeywords(keywords)}`)
  }

  if (!future && at > Date.now() + FUTURE_GRACE_MS) {
    const newest = keywords.includes('last') ? ': use last for the newest state' : ''
    throw new UsageError(`${name} '${raw}' is in the future (${new Date(at).toISOString()})${newest}`)
  }

  return at
}

/** ' or last, first or all': the keywords a parameter takes, as its errors name them. */
function orKeywords(keywords: readonly DateKeyword[]): string {
  return keywords.length > 0 ? ` or ${keywords.join(', ').replace(/, ([^,]+)$/, ' or $1')}` : ''
}

function parseCarbonioDate(text: string, name: string): number | undefined {
  const match = CARBONIO_DATE.exec(text)
  if (!match) return undefined
  const [day, month, year, hour, minute, second] = match.slice(1).map(part => Number(part ?? 0))
  return localMoment({
    year, month, day, hour, minute, second, ms: 0,
  }, text, name)
}

function parseIsoDate(text: string, name: string): number | undefined {
  const match = ISO_DATE.exec(text)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(part => Number(part ?? 0))
  const fields = {
    year, month, day, hour, minute, second, ms: Number((match[7] ?? '').slice(0, 3).padEnd(3, '0')),
  }
  // A bare date or a zone-less date-time is the server's local time (JavaScript alone would take a bare date as UTC).
  if (match[8] === undefined) return localMoment(fields, text, name)
  const at = Date.parse(text)
  // Same roll-over check as for a local date: 2026-02-31 parses in some engines.
  return Number.isNaN(at) || !exists(fields) ? undefined : at
}

interface DateFields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  ms: number
}

/** Whether the fields name a day and time of the calendar at all: new Date() rolls 31/02 over into March. */
function exists(f: DateFields): boolean {
  const probe = new Date(Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second))
  return probe.getUTCFullYear() === f.year && probe.getUTCMonth() === f.month - 1 && probe.getUTCDate() === f.day
    && probe.getUTCHours() === f.hour && probe.getUTCMinutes() === f.minute && probe.getUTCSeconds() === f.second
}

/**
 * A wall-clock time in the server's time zone; undefined when no calendar has it (31/02, 25:00). One that the calendar
 * has but this zone skips (02:30 on the night the clocks go forward) is refused with the reason: JavaScript would
 * quietly take the time an hour later, and the old check called it "not a date", which sent the user looking at the
 * format. A time that comes twice (the night the clocks go back) is its first occurrence.
 */
function localMoment(f: DateFields, raw: string, name: string): number | undefined {
  if (!exists(f)) return undefined
  const local = new Date(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.ms)
  if (local.getDate() === f.day && local.getHours() === f.hour && local.getMinutes() === f.minute) return local.getTime()
  const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone
  const later = [local.getHours(), local.getMinutes(), local.getSeconds()].map(part => String(part).padStart(2, '0')).join(':')
  throw new UsageError(`${name} '${raw}' does not exist in the server's time zone (${zone}): its clocks skip that time on that day; use ${later} instead, or ISO 8601 with an offset`)
}
