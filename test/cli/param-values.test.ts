import assert from 'node:assert/strict'

import {
  parseBoolean, parseExactDate, parseList, parseNonNegativeInteger, parsePointInTime, parseRetentionDays,
} from '../../src/cli/param-values.js'
import {UsageError} from '../../src/engine/errors.js'

describe('Carbonio parameter values', () => {
  it('reads booleans as true|false in any case', () => {
    for (const [raw, expected] of [['true', true], ['FALSE', false], ['True', true], [' false ', false]] as const) {
      assert.equal(parseBoolean(raw, 'deep'), expected)
    }

    assert.throws(() => parseBoolean('yes', 'deep'), /deep must be true or false, not 'yes'/)
  })

  it('splits comma lists and drops empty entries', () => {
    assert.deepEqual(parseList('a@x.com, b@x.com,,c@x.com,'), ['a@x.com', 'b@x.com', 'c@x.com'])
    assert.deepEqual(parseList('one'), ['one'])
  })

  it('reads non-negative integers only', () => {
    assert.equal(parseNonNegativeInteger('30', 'purgeDays'), 30)
    assert.equal(parseNonNegativeInteger('0', 'purgeDays'), 0)
    for (const bad of ['-1', '1.5', 'x', '', '3d']) assert.throws(() => parseNonNegativeInteger(bad, 'purgeDays'), UsageError)
  })

  it('reads a retention in days within the bounds of ZxBackup_DataRetentionDays', () => {
    assert.equal(parseRetentionDays('36500', 'purgeDays'), 36_500)
    assert.equal(parseRetentionDays('0', 'purgeDays'), 0)
    // 200000000 days puts the cutoff before the earliest JavaScript date: the purge failed with 'Invalid time value'.
    for (const bad of ['36501', '200000000', '-1']) assert.throws(() => parseRetentionDays(bad, 'purgeDays'), UsageError)
    assert.throws(() => parseRetentionDays('36501', 'purgeDays'), /purgeDays must be at most 36500 days \(0 = infinite\), not '36501'/)
  })

  const dates: Array<[string, number]> = [
    ['26/11/2026 09:30:15', new Date(2026, 10, 26, 9, 30, 15).getTime()],
    ['01/02/2026', new Date(2026, 1, 1).getTime()],
    ['29/02/2024 23:59:59', new Date(2024, 1, 29, 23, 59, 59).getTime()],
    ['2026-11-26T09:30:15.123Z', Date.UTC(2026, 10, 26, 9, 30, 15, 123)],
    ['2026-11-26T10:30:15.123+01:00', Date.UTC(2026, 10, 26, 9, 30, 15, 123)],
    ['2026-11-26T09:30:15', new Date(2026, 10, 26, 9, 30, 15).getTime()],
    ['2026-11-26', new Date(2026, 10, 26).getTime()],
  ]
  for (const [raw, at] of dates) {
    it(`reads the date ${raw}`, () => {
      assert.deepEqual(parsePointInTime(raw, 'date'), {kind: 'at', at})
    })
  }

  it('reads the keywords last, first and (where allowed) all', () => {
    assert.deepEqual(parsePointInTime('last', 'date'), {kind: 'last'})
    assert.deepEqual(parsePointInTime('FIRST', 'date'), {kind: 'first'})
    assert.deepEqual(parsePointInTime('all', 'date', {keywords: ['last', 'first', 'all']}), {kind: 'all'})
    assert.throws(() => parsePointInTime('all', 'date'), /^UsageError: date takes a date or last or first, not 'all'$/)
  })

  it('names only the keywords a parameter takes, in the refusal of another and in the formats', () => {
    assert.throws(() => parsePointInTime('first', 'date', {keywords: ['last']}), /^UsageError: date takes a date or last, not 'first'$/)
    assert.throws(() => parsePointInTime('soon', 'end', {keywords: ['last']}), (error: unknown) =>
      error instanceof UsageError && error.message.endsWith('(2026-11-26T09:30:00.000Z) or last'))
    assert.throws(() => parseExactDate('last', 'before'), (error: unknown) =>
      error instanceof UsageError && error.message.endsWith('ISO 8601 (2026-11-26T09:30:00.000Z)'))
  })

  it('refuses a date in the future (a mistyped year would quietly mean last), but not as a search bound', () => {
    const nextYear = new Date().getFullYear() + 1
    assert.throws(() => parsePointInTime(`27/11/${nextYear} 00:00:00`, 'date', {keywords: ['last']}), (error: unknown) =>
      error instanceof UsageError && new RegExp(`^date '27/11/${nextYear} 00:00:00' is in the future \\(${nextYear}-11-2\\dT.*\\): use last for the newest state$`).test(error.message))
    assert.equal(parseExactDate(`${nextYear}-01-01T00:00:00Z`, 'before'), Date.parse(`${nextYear}-01-01T00:00:00Z`))
    // A moment typed to the minute, or a clock a little ahead, is not the future.
    const now = new Date(Date.now() + 30_000).toISOString()
    assert.deepEqual(parsePointInTime(now, 'date'), {kind: 'at', at: Date.parse(now)})
  })

  describe('in a time zone with daylight saving time', () => {
    const zone = process.env.TZ

    before(() => {
      process.env.TZ = 'Europe/Rome'
    })

    after(() => {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    })

    it('refuses a local time the clocks skip, saying so, in either format (it was "not a date", or quietly an hour later)', () => {
      for (const skipped of ['29/03/2026 02:30:00', '2026-03-29T02:30']) {
        assert.throws(() => parsePointInTime(skipped, 'date'), (error: unknown) => error instanceof UsageError
          && error.message === `date '${skipped}' does not exist in the server's time zone (Europe/Rome): its clocks skip that time on that day; use 03:30:00 instead, or ISO 8601 with an offset`)
      }

      // The same moment written with its offset, and the times around the gap, are fine.
      assert.deepEqual(parsePointInTime('2026-03-29T02:30:00+01:00', 'date'), {kind: 'at', at: Date.UTC(2026, 2, 29, 1, 30)})
      assert.deepEqual(parsePointInTime('29/03/2026 01:59:59', 'date'), {kind: 'at', at: Date.UTC(2026, 2, 29, 0, 59, 59)})
      assert.deepEqual(parsePointInTime('29/03/2026 03:00:00', 'date'), {kind: 'at', at: Date.UTC(2026, 2, 29, 1, 0)})
      // A time the clocks show twice (going back) is its first occurrence.
      assert.deepEqual(parsePointInTime('25/10/2026 02:30:00', 'date'), {kind: 'at', at: Date.UTC(2026, 9, 25, 0, 30)})
      assert.deepEqual(parsePointInTime('2026-10-25T02:30:00.250', 'date'), {kind: 'at', at: Date.UTC(2026, 9, 25, 0, 30, 0, 250)})
    })
  })

  for (const bad of ['31/02/2026 10:00:00', '2026-02-30T00:00:00Z', '26/11/26', 'yesterday', '24/12/2026 25:00:00', '']) {
    it(`refuses '${bad}' with the accepted formats`, () => {
      assert.throws(() => parsePointInTime(bad, 'date'), (error: unknown) =>
        error instanceof UsageError && /dd\/MM\/yyyy HH:mm:ss/.test(error.message) && /ISO 8601/.test(error.message))
    })
  }
})
