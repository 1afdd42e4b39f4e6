import assert from 'node:assert/strict'

import type {OperationWork} from '../../../src/engine/operations/run-operation.js'

import {CronService} from '../../../src/engine/daemon/cron-service.js'
import {listOperations} from '../../../src/engine/operations/operations-store.js'
import {findScheduledJob} from '../../../src/engine/schedule/scheduled-jobs.js'
import {sleep} from '../../../src/engine/sleep.js'
import {eventually} from '../../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const purge = findScheduledJob('purge')
const EVERY_SECOND = '* * * * * *'

function config(pattern: string, enabled: boolean): Map<string, null | string> {
  return new Map([[purge.enabledAttribute, String(enabled)], [purge.patternAttribute, pattern]])
}

/** The daemon's purge-cron in-process, with a stand-in for the purge so that timing is the test's own. */
describe('scheduled service (purge-cron)', function () {
  this.timeout(20_000)
  let t: TestCatalog
  let service: CronService | undefined
  let log: string[]

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
    log = []
  })

  afterEach(async () => {
    await service?.stop()
    service = undefined
    await t.cleanup()
  })

  function start(work: OperationWork, lateToleranceMs?: number): CronService {
    service = new CronService(t.catalog, 'mail1.example.com', {
      name: 'purge-cron', job: purge, work: () => work, lateToleranceMs,
    }, line => log.push(line))
    return service
  }

  async function purges() {
    return (await listOperations(t.catalog, {includeFinished: true})).filter(op => op.type === 'doPurge')
  }

  it('runs each due time as a recorded operation, reschedules on a pattern change and stops when switched off', async () => {
    const cron = start(async () => ({done: true}))
    cron.reconcile(config('0 4 * * 6', true))
    const weekly = cron.status
    assert.equal(weekly.state, 'idle')
    assert.equal(new Date(String(weekly.detail.nextRun)).getDay(), 6)
    cron.reconcile(config(EVERY_SECOND, true))
    assert.equal(cron.status.detail.pattern, EVERY_SECOND)
    assert.ok(Date.parse(String(cron.status.detail.nextRun)) <= Date.now() + 1000, 'rescheduled at once')
    const [first] = await eventually('a completed scheduled purge', async () => {
      const done = (await purges()).filter(op => op.state === 'completed')
      return done.length > 0 ? done : undefined
    }, 5000)
    assert.deepEqual(first.parameters.scheduled, true)
    assert.equal(first.parameters.pattern, EVERY_SECOND)
    assert.deepEqual(first.result, {done: true})

    cron.reconcile(config(EVERY_SECOND, false))
    assert.deepEqual([cron.status.detail.enabled, cron.status.detail.nextRun], [false, null])
    await eventually('purge-cron disabled', async () => (cron.status.state === 'disabled' ? true : undefined), 2000)
    const count = (await purges()).length
    await sleep(1500)
    assert.equal((await purges()).length, count, 'no run after the switch went off')
  })

  it('skips a run while the previous one is still going', async () => {
    const cron = start(async ({signal}) => {
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 2500)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          resolve()
        }, {once: true})
      })
      return {}
    })
    cron.reconcile(config(EVERY_SECOND, true))
    await eventually('the first run', async () => ((await purges()).length > 0 ? true : undefined), 3000)
    await sleep(2000)
    assert.equal((await purges()).length, 1, 'the runs due meanwhile were skipped, not queued')
    assert.ok(log.some(line => /previous run is still queued or running; the run due at .* is skipped/.test(line)), log.join('\n'))
  })

  it('does not run a firing that comes late (the process stalled or the machine slept)', async () => {
    const cron = start(async () => ({}), 300)
    cron.reconcile(config(EVERY_SECOND, true))
    // Block the event loop past the due time, as a suspend would: the timer then fires well after its time.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2200)
    await eventually('the missed run reported', async () => (log.some(line => /was missed \(\d+ s late\); it is not run late/.test(line)) ? true : undefined), 2000)
    const missedDue = /the run due at (\S+) was missed/.exec(log.find(line => line.includes('was missed'))!)![1]
    await sleep(1500)
    const runs = await purges()
    assert.ok(runs.length > 0, 'later runs, on time, still happen')
    for (const run of runs) assert.ok(String(run.parameters.due) > missedDue, `run for ${run.parameters.due} is not the missed ${missedDue}`)
  })

  it('interrupts a run in progress when the daemon stops', async () => {
    const cron = start(async ({signal}) => {
      await new Promise(resolve => {
        signal.addEventListener('abort', resolve, {once: true})
      })
      return {}
    })
    cron.reconcile(config(EVERY_SECOND, true))
    await eventually('a running purge', async () => ((await purges()).some(op => op.state === 'running') ? true : undefined), 3000)
    await cron.stop()
    const runs = await purges()
    assert.deepEqual(runs.map(op => op.state), ['interrupted'])
  })
})
