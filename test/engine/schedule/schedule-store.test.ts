import assert from 'node:assert/strict'

import {getAttribute} from '../../../src/engine/config/config-store.js'
import {UsageError} from '../../../src/engine/errors.js'
import {nextRunOf} from '../../../src/engine/schedule/next-run.js'
import {scheduleScope} from '../../../src/engine/schedule/schedule-scope.js'
import {getSchedule, setSchedule} from '../../../src/engine/schedule/schedule-store.js'
import {findScheduledJob} from '../../../src/engine/schedule/scheduled-jobs.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const GLOBAL = {level: 'global', target: ''} as const
const MAIL1 = {level: 'server', target: 'mail1.example.com'} as const
const MAIL2 = {level: 'server', target: 'mail2.example.com'} as const
const purge = findScheduledJob('purge')
const WEEK_MS = 7 * 86_400_000

function usageError(pattern: RegExp): (error: unknown) => boolean {
  return error => error instanceof UsageError && error.exitCode === 2 && pattern.test(error.message) && !error.message.includes('\n')
}

describe('schedules', () => {
  let t: TestCatalog

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
  })

  afterEach(async () => {
    await t.cleanup()
  })

  it('has the documented defaults: SmartScan daily, purge on Saturday, coherencyCheck monthly and off', async () => {
    const smartScan = await getSchedule(t.catalog, GLOBAL, findScheduledJob('smartscan'))
    assert.deepEqual([smartScan.pattern.value, smartScan.pattern.source, smartScan.enabled.value], ['0 4 * * *', 'default', true])
    const weekly = await getSchedule(t.catalog, MAIL1, purge)
    assert.deepEqual([weekly.pattern.value, weekly.enabled.value, weekly.enabled.source], ['0 4 * * 6', true, 'default'])
    const next = new Date(weekly.nextRun!)
    assert.deepEqual([next.getDay(), next.getHours(), next.getMinutes()], [6, 4, 0])
    assert.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + WEEK_MS)
    const coherency = await getSchedule(t.catalog, GLOBAL, findScheduledJob('COHERENCYCHECK'))
    assert.deepEqual([coherency.pattern.value, coherency.enabled.value, coherency.nextRun], ['0 5 1 * *', false, null])
  })

  it('round-trips a set and lets a server inherit from global, then override one half', async () => {
    await setSchedule(t.catalog, GLOBAL, purge, {enabled: false, pattern: '0 3 * * 0'})
    const inherited = await getSchedule(t.catalog, MAIL1, purge)
    assert.deepEqual(inherited.pattern, {
      attribute: 'backupPurgeScheduler', value: '0 3 * * 0', source: GLOBAL, inherited: true,
    })
    assert.deepEqual(inherited.enabled, {
      attribute: 'backupPurgeSchedulerEnabled', value: false, source: GLOBAL, inherited: true,
    })
    assert.equal(inherited.nextRun, null, 'a switched-off job has no next run')

    const {schedule, changed} = await setSchedule(t.catalog, MAIL1, purge, {enabled: true})
    assert.deepEqual(changed.map(c => [c.attribute, c.value]), [['backupPurgeSchedulerEnabled', 'true']])
    assert.deepEqual([schedule.enabled.value, schedule.enabled.source, schedule.enabled.inherited], [true, MAIL1, false])
    assert.deepEqual([schedule.pattern.value, schedule.pattern.source], ['0 3 * * 0', GLOBAL], 'the pattern still comes from global')
    const next = new Date(schedule.nextRun!)
    assert.deepEqual([next.getDay(), next.getHours(), next.getMinutes()], [0, 3, 0])
    assert.equal((await getSchedule(t.catalog, MAIL2, purge)).enabled.value, false, 'another server still inherits global')
    // Stored as plain attributes, so config get shows the same.
    assert.equal((await getAttribute(t.catalog, MAIL1, 'backupPurgeSchedulerEnabled')).value, 'true')
  })

  it('refuses a bad pattern, an empty set, an unknown job and a wrong level in one line, storing nothing', async () => {
    await assert.rejects(setSchedule(t.catalog, GLOBAL, purge, {enabled: false, pattern: '0 25 * * *'}), usageError(/invalid pattern for purge: '0 25 \* \* \*' is not a valid cron pattern/))
    await assert.rejects(setSchedule(t.catalog, GLOBAL, purge, {pattern: '0 4 * *'}), usageError(/does not have five fields/))
    await assert.rejects(setSchedule(t.catalog, GLOBAL, purge, {pattern: '@weekly'}), usageError(/does not have five fields/))
    const untouched = await getSchedule(t.catalog, GLOBAL, purge)
    assert.deepEqual([untouched.enabled.source, untouched.pattern.source], ['default', 'default'], 'enabled false was not stored with the bad pattern')
    await assert.rejects(setSchedule(t.catalog, GLOBAL, purge, {}), usageError(/nothing to set for purge/))
    assert.throws(() => findScheduledJob('purg'), usageError(/unknown scheduled job 'purg' \(did you mean purge\?\): use SmartScan, purge, coherencyCheck/))
    assert.throws(() => findScheduledJob('backup'), usageError(/unknown scheduled job 'backup': use/))
    assert.throws(() => scheduleScope('domain', 'example.com', 'mail1'), usageError(/global or server level, not domain/))
    assert.throws(() => scheduleScope('global', 'mail1', 'mail1'), usageError(/global level takes no host/))
    assert.throws(() => scheduleScope('planet', undefined, 'mail1'), usageError(/unknown level 'planet'/))
    // A mistyped level lists only the levels a schedule takes, not config's domain, cos and account.
    assert.throws(() => scheduleScope('globl', undefined, 'mail1'), usageError(/^unknown level 'globl': use global or server$/))
    assert.deepEqual(scheduleScope('SERVER', undefined, 'Mail1.Example.com'), MAIL1, 'server without a host is this server')
  })

  it('takes a leading seconds field for short test schedules', async () => {
    const {schedule} = await setSchedule(t.catalog, MAIL1, purge, {pattern: '*/2 * * * * *'})
    const next = Date.parse(schedule.nextRun!)
    assert.ok(next > Date.now() && next <= Date.now() + 2000, `next run ${schedule.nextRun} within 2 s`)
    assert.equal(nextRunOf('30 4 * * *', new Date(2026, 0, 1, 5, 0))?.getTime(), new Date(2026, 0, 2, 4, 30).getTime())
  })
})
