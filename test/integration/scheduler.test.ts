import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {sleep} from '../../src/engine/sleep.js'
import {
  eventually, outputOf, runCli, startCli, startFixture, UUID, waitFor,
} from '../helpers/run-cli.js'

const SERVER = 'mail1.example.com'

/** `backup scheduler` through the real CLI, and the daemon running what it schedules. */
describe('backup scheduler', function () {
  this.timeout(60_000)
  let home: string
  let env: NodeJS.ProcessEnv
  const children: ChildProcess[] = []

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-sched-'))
    env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: SERVER}
  })

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
    rmSync(home, {recursive: true, force: true})
  })

  async function ok(args: string[]): Promise<string> {
    const result = await runCli(args, env)
    assert.equal(result.code, 0, `carbonio ${args.join(' ')}: ${result.stdout}${result.stderr}`)
    return result.stdout
  }

  async function json(args: string[]): Promise<any> {
    return JSON.parse(await ok([...args, '--json']))
  }

  async function purges(): Promise<any[]> {
    return (await json(['backup', 'getAllOperations', 'all', 'true'])).operations.filter((op: any) => op.type === 'doPurge')
  }

  async function purgeCron(): Promise<any> {
    return (await json(['backup', 'getServices'])).services.find((s: any) => s.name === 'purge-cron')
  }

  function startDaemon(): ChildProcess {
    const daemon = startCli(['backup', 'daemon'], env)
    children.push(daemon)
    return daemon
  }

  it('sets and gets schedules, a server inheriting from global and overriding it, job names in any case', async () => {
    const set = await ok(['backup', 'scheduler', 'SmartScan', 'set', 'global', 'enabled', 'true', 'pattern', '0 4 * * 6'])
    assert.match(set, /^ok\n/)
    const inherited = await json(['backup', 'scheduler', 'smartscan', 'get', 'server', SERVER])
    assert.deepEqual(inherited.pattern, {
      attribute: 'backupSmartScanScheduler', value: '0 4 * * 6', source: {level: 'global', target: ''}, inherited: true,
    })
    assert.deepEqual([inherited.enabled.value, inherited.enabled.inherited], [true, true])
    assert.equal(new Date(inherited.nextRun).getDay(), 6)

    await ok(['backup', 'scheduler', 'SMARTSCAN', 'SET', 'server', SERVER, 'pattern', '30 2 * * *'])
    const own = await ok(['backup', 'scheduler', 'SmartScan', 'get', 'server', SERVER])
    assert.match(own, /pattern: 30 2 \* \* \* \(set at server mail1\.example\.com\)/)
    assert.match(own, /enabled: true \(inherited from global\)/)
    assert.match(own, /next run: \w{3} \d{2}\/\d{2}\/\d{4} 02:30:00 local time/)
    assert.match(own, /daemon: has never run on mail1\.example\.com/)
    assert.equal((await json(['backup', 'scheduler', 'SmartScan', 'get', 'global'])).pattern.value, '0 4 * * 6', 'global is unchanged')
    // Stored as attributes: config shows them, and a server without its own value gets the default.
    assert.match(await ok(['config', 'get', 'server', SERVER, 'backupSmartScanScheduler']), /30 2 \* \* \* \(set at server/)
    assert.match(await ok(['config', 'dump', 'server', 'mail2.example.com']), /backupPurgeSchedulerEnabled: true \(default\)/)
    const coherency = await json(['backup', 'scheduler', 'coherencyCheck', 'get', 'global'])
    assert.deepEqual([coherency.pattern.value, coherency.enabled.value, coherency.nextRun], ['0 5 1 * *', false, null])
  })

  it('refuses a bad pattern, an unknown job and a wrong level in one line with exit 2, changing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['purge', 'set', 'global', 'enabled', 'false', 'pattern', '0 25 * * *'],
        /^Error: invalid pattern for purge: '0 25 \* \* \*' is not a valid cron pattern .*expected a cron pattern of five fields/,
      ],
      [['purge', 'set', 'global', 'pattern', '0 4 * *'], /^Error: invalid pattern for purge: '0 4 \* \*' does not have five fields/],
      [['backups', 'get', 'global'], /^Error: unknown scheduled job 'backups': use SmartScan, purge, coherencyCheck$/],
      [['purge', 'get', 'domain', 'example.com'], /^Error: schedules live at global or server level, not domain/],
      [['purge', 'set', 'global', SERVER, 'enabled', 'false'], /^Error: the global level takes no host \('mail1\.example\.com'\)/],
      [['purge', 'set', 'global', 'enabled', 'maybe'], /^Error: enabled must be true or false, not 'maybe'$/],
      [['purge', 'set', 'global'], /^Error: nothing to set for purge/],
    ]
    for (const [words, message] of cases) {
      const result = await runCli(['backup', 'scheduler', ...words], env)
      assert.equal(result.code, 2, `${words.join(' ')}: ${result.stderr}`)
      assert.equal(result.stdout, '')
      const lines = result.stderr.trimEnd().split('\n')
      assert.match(lines[0], message)
      assert.deepEqual(lines.slice(1).map(line => line.startsWith('Usage: carbonio backup scheduler')), [true], result.stderr)
    }

    const viaJson = await runCli(['backup', 'scheduler', 'purge', 'set', 'server', SERVER, 'pattern', '61 * * * *', '--json'], env)
    assert.equal(viaJson.code, 2)
    assert.match(JSON.parse(viaJson.stdout).error.message, /invalid pattern for purge/)
    const purge = await json(['backup', 'scheduler', 'purge', 'get', 'server', SERVER])
    assert.deepEqual([purge.pattern.source, purge.enabled.source], ['default', 'default'], 'nothing was stored')
  })

  it('runs a scheduled purge as an operation in the daemon, and switching it off stops further runs', async () => {
    await ok(['backup', 'scheduler', 'purge', 'set', 'server', SERVER, 'pattern', '*/2 * * * * *'])
    const daemon = startDaemon()
    const run = await eventually('a completed scheduled doPurge', async () => (await purges()).find(op => op.state === 'completed'), 10_000)
    assert.match(run.uuid, UUID)
    assert.deepEqual([run.outcome, run.parameters.scheduled, run.parameters.pattern], ['Successful', true, '*/2 * * * * *'])
    assert.equal(run.server, SERVER)
    const service = await purgeCron()
    assert.equal(service.detail.pattern, '*/2 * * * * *')
    assert.equal(service.detail.enabled, true)
    assert.ok(Date.parse(service.detail.nextRun) - Date.now() <= 2500, `next run ${service.detail.nextRun} within 2 s`)
    const view = await json(['backup', 'scheduler', 'purge', 'get', 'server', SERVER])
    assert.equal(view.daemon.alive, true)

    // The server has no switch of its own: switching global off switches it off.
    await ok(['backup', 'scheduler', 'purge', 'set', 'global', 'enabled', 'false'])
    await eventually('purge-cron disabled', async () => ((await purgeCron()).state === 'disabled' ? true : undefined), 3000)
    assert.equal((await purgeCron()).detail.nextRun, null)
    const count = (await purges()).length
    await sleep(3000)
    assert.equal((await purges()).length, count, 'no scheduled purge after the switch went off')
    assert.match(outputOf(daemon).stderr, /purge-cron: disabled \(backupPurgeSchedulerEnabled is false\)/)

    daemon.kill('SIGTERM')
    const exit = await waitFor(daemon)
    assert.equal(exit.code, 0, exit.stderr)
  })

  it('runs the Coherency Check only once switched on (it is off by default)', async () => {
    const daemon = startDaemon()
    const off = await eventually('coherency-cron reported', async () => (await json(['backup', 'getServices'])).services.find((s: any) => s.name === 'coherency-cron' && s.alive), 10_000)
    assert.deepEqual([off.state, off.detail.pattern, off.detail.enabled], ['disabled', '0 5 1 * *', false])
    await ok(['backup', 'scheduler', 'coherencyCheck', 'set', 'server', SERVER, 'enabled', 'true', 'pattern', '*/2 * * * * *'])
    const check = await eventually('a completed scheduled doCoherencyCheck', async () => {
      const {operations} = await json(['backup', 'getAllOperations', 'all', 'true'])
      return operations.find((op: any) => op.type === 'doCoherencyCheck' && op.state === 'completed')
    }, 10_000)
    assert.deepEqual([check.parameters.scheduled, check.result.coherent, check.result.fixBackup], [true, true, false])
    daemon.kill('SIGTERM')
    assert.equal((await waitFor(daemon)).code, 0)
  })

  it('queues a scheduled run behind a running operation and skips the runs due while it waits', async () => {
    const holder = startFixture('hold-operation.ts', [], env)
    children.push(holder)
    const holderUuid = await eventually('the holder UUID', async () => outputOf(holder).stdout.split('\n')[0].match(UUID)?.[0])
    await ok(['backup', 'scheduler', 'purge', 'set', 'global', 'pattern', '* * * * * *'])
    startDaemon()
    const queued = await eventually('a queued doPurge', async () => (await purges()).find(op => op.state === 'queued'), 10_000)
    assert.equal(queued.queuePosition, 1)
    await sleep(2500)
    assert.equal((await purges()).length, 1, 'the runs due while one waits are skipped, not queued')

    await ok(['backup', 'doStopOperation', holderUuid])
    await eventually('the queued purge completed', async () => ((await purges()).some(op => op.uuid === queued.uuid && op.state === 'completed') ? true : undefined), 10_000)
  })

  it('on SIGTERM, removes a scheduled run still queued behind another process\'s operation and stops at once', async () => {
    const holder = startFixture('hold-operation.ts', [], env)
    children.push(holder)
    const holderUuid = await eventually('the holder UUID', async () => outputOf(holder).stdout.split('\n')[0].match(UUID)?.[0])
    await ok(['backup', 'scheduler', 'purge', 'set', 'global', 'pattern', '* * * * * *'])
    const daemon = startDaemon()
    const queued = await eventually('a queued doPurge', async () => (await purges()).find(op => op.state === 'queued'), 10_000)
    const stopping = Date.now()
    daemon.kill('SIGTERM')
    const exit = await waitFor(daemon, 10_000)
    assert.equal(exit.code, 0, exit.stderr)
    assert.ok(Date.now() - stopping < 5000, `the daemon took ${Date.now() - stopping} ms to stop`)
    const removed = (await purges()).find(op => op.uuid === queued.uuid)
    assert.equal(removed.state, 'removed', 'the queued run never started')
    assert.match(exit.stderr, new RegExp(`doPurge ${queued.uuid} ended Removed`))
    await ok(['backup', 'doStopOperation', holderUuid])
  })

  it('does not run at start a run that fell due while the daemon was down', async () => {
    const due = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000)
    // Seconds minute hour day month, in local time like every schedule: due once, in about two seconds.
    const once = `${due.getSeconds()} ${due.getMinutes()} ${due.getHours()} ${due.getDate()} ${due.getMonth() + 1} *`
    await ok(['backup', 'scheduler', 'purge', 'set', 'server', SERVER, 'pattern', once])
    await sleep(due.getTime() - Date.now() + 1000)
    const daemon = startDaemon()
    const service = await eventually('purge-cron scheduled', async () => {
      const s = await purgeCron()
      return s?.detail.pattern === once ? s : undefined
    }, 10_000)
    assert.equal(service.state, 'idle')
    assert.ok(Date.parse(service.detail.nextRun) > Date.now() + (300 * 86_400_000), `next run ${service.detail.nextRun} is next year`)
    await sleep(1500)
    assert.deepEqual(await purges(), [], 'the missed run was not run late')
    assert.doesNotMatch(outputOf(daemon).stderr, /doPurge .* created/)
  })
})
