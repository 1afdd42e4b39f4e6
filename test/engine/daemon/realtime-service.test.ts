import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {serverConfig, setAttribute} from '../../../src/engine/config/config-store.js'
import {BackupDaemon} from '../../../src/engine/daemon/backup-daemon.js'
import {RealtimeService} from '../../../src/engine/daemon/realtime-service.js'
import {reportService, serviceStatuses} from '../../../src/engine/daemon/services.js'
import {uncertainAccounts} from '../../../src/engine/scanner/account-certainty.js'
import {sleep} from '../../../src/engine/sleep.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {eventually} from '../../helpers/run-cli.js'
import {openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const SERVER = 'mail1.example.com'
const AT_SERVER = {level: 'server' as const, target: SERVER}

/** The backup-realtime service on a redolog, driven by hand as the daemon's reconcile loop drives it. */
describe('backup-realtime on the redolog feed', function () {
  this.timeout(60_000)
  let t: TestCatalog
  let log: RedologWriter
  let service: RealtimeService
  const lines: string[] = []

  beforeEach(async () => {
    t = await openTestCatalog('sqlite')
    log = new RedologWriter(path.join(t.home, 'redolog'))
    await setAttribute(t.catalog, AT_SERVER, 'backupRedologPath', log.dir)
    lines.length = 0
    // Every batch gets its progress line, so the test sees what each one says.
    service = new RealtimeService(t.catalog, SERVER, line => lines.push(line), {progressLogMs: 0})
  })

  afterEach(async () => {
    await service.stop()
    await t.cleanup()
  })

  async function reconcile(): Promise<void> {
    await service.reconcile(await serverConfig(t.catalog, SERVER))
  }

  async function switchScanner(value: 'FALSE' | 'TRUE'): Promise<void> {
    await setAttribute(t.catalog, AT_SERVER, 'ZxBackup_RealTimeScanner', value)
    await reconcile()
  }

  /** A daemon of this server, its log lines with the service's; the function it returns stops it and waits. */
  function startDaemon(): () => Promise<void> {
    const controller = new AbortController()
    const running = new BackupDaemon(t.catalog, SERVER, line => lines.push(line)).run(controller.signal)
    return async () => {
      controller.abort()
      await running
    }
  }

  function caughtUpLines(): string[] {
    return lines.filter(line => line.includes('caught up'))
  }

  it('says per batch the count and seq of that batch with a human lag, then once that it caught up', async () => {
    // Nine hours old: a catch-up after a night without the scanner. Two full batches of the feed (8000) and one more.
    const nineHoursAgo = Date.now() - (9 * 3600 * 1000)
    log.write('alice@example.com', 'account.created', {}, nineHoursAgo)
    for (let i = 2; i <= 16_001; i++) log.write('alice@example.com', 'item.created', {
      item: String(i), type: 'contact', folder: '7', flags: [],
    }, nineHoursAgo)

    await reconcile()
    await eventually('the catch-up to end', async () => (caughtUpLines().length > 0 ? true : undefined), 45_000)
    const progress = lines.filter(line => line.includes('catching up'))
    assert.ok(progress.length >= 2, lines.join('\n'))
    for (const line of progress) {
      const match = /catching up: (\d+) transactions? applied since the scanner started, last seq (\d+), lag (.*)$/.exec(line)
      assert.ok(match, line)
      // The feed starts at seq 1 with no gap: a line describing the batch just committed has count = seq.
      assert.equal(match[1], match[2], line)
      assert.match(match[3], /^9h \d+m$/, line)
    }

    assert.deepEqual(caughtUpLines(), ['backup-realtime: caught up at seq 16001 (16001 transactions applied since the scanner started)'])

    // Switched off and on: the count starts again with the scanner, and the seq is where it is.
    await switchScanner('FALSE')
    log.write('alice@example.com', 'item.flags', {item: '2', flags: ['a']})
    lines.length = 0
    await switchScanner('TRUE')
    await eventually('the second catch-up to end', async () => (caughtUpLines().length > 0 ? true : undefined))
    assert.deepEqual(caughtUpLines(), ['backup-realtime: caught up at seq 16002 (1 transaction applied since the scanner started)'])
    for (const line of lines.filter(l => l.includes('catching up'))) assert.match(line, /catching up: 1 transaction applied since the scanner started, last seq 16002,/)
    assert.equal((service.status.detail as {transactions: number}).transactions, 1)
  })

  it('logs each bad line with its file, line, account and reason, not only how many there were', async () => {
    log.write('alice@example.com', 'account.created', {})
    log.raw('{"v":1,"seq":2,"time":1,"account":"alice@example.com","op":"item.exploded","data":{}}\n')
    log.seq = 2
    log.write('alice@example.com', 'item.flags', {item: '404', flags: []})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    const file = path.basename(log.file)
    assert.ok(lines.includes(`backup-realtime: ${file}:2 alice@example.com: unknown op 'item.exploded'`), lines.join('\n'))
    assert.ok(lines.includes(`backup-realtime: ${file}:3 alice@example.com: item.flags for item 404, which the backup does not know`), lines.join('\n'))
  })

  it('says it caught up when there is nothing new, at the seq of the checkpoint', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    await service.stop()
    lines.length = 0
    service = new RealtimeService(t.catalog, SERVER, line => lines.push(line), {progressLogMs: 0})
    await reconcile()
    await eventually('caught up again', async () => (caughtUpLines().length > 0 ? true : undefined))
    assert.deepEqual(caughtUpLines(), ['backup-realtime: caught up at seq 1 (0 transactions applied since the scanner started)'])
  })

  it('clears the error of a failed read from getServices once the feed works again', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))

    // The redolog directory replaced by a file (a mount gone wrong): every read fails until it is back.
    rmSync(log.dir, {recursive: true})
    writeFileSync(log.dir, 'not a directory')
    const failing = await eventually('failing', async () => (service.status.state === 'failing' ? service.status : undefined), 10_000)
    assert.ok(failing.detail.error, JSON.stringify(failing))
    assert.equal(failing.detail.connector, 'redolog', 'a failing scanner still says what it follows')

    rmSync(log.dir)
    mkdirSync(log.dir)
    log.rotate()
    log.write('alice@example.com', 'item.created', {
      item: '2', type: 'contact', folder: '7', flags: [],
    })
    const recovered = await eventually('the next batch applied', async () => (service.status.detail.lastSeq === 2 ? service.status : undefined), 20_000)
    assert.equal(recovered.state, 'running')
    assert.equal(recovered.detail.error, undefined, JSON.stringify(recovered))
    assert.equal(recovered.detail.retryInMs, undefined, JSON.stringify(recovered))
    assert.equal(recovered.detail.connector, 'redolog')
  })

  /** The time off that the account's uncertainty reason names. */
  async function timeOff(): Promise<{from: number; to: number}> {
    const [account] = await uncertainAccounts(t.catalog)
    assert.ok(account, 'the account needs a SmartScan')
    const match = /^the Realtime Scanner was off from (\S+) to (\S+): run a SmartScan$/.exec(account.reason ?? '')
    assert.ok(match, account.reason ?? 'no reason')
    return {from: Date.parse(match[1]), to: Date.parse(match[2])}
  }

  it('dates the time off from the moment the scanner stopped, not from its last report while off', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    const before = Date.now()
    await switchScanner('FALSE')
    const stopped = Date.now()
    // While it is off, the daemon reconciles and heartbeats every half second.
    for (let i = 0; i < 4; i++) {
      await sleep(300)
      await reconcile()
      await reportService(t.catalog, SERVER, service.status)
    }

    assert.equal(service.status.detail.offSince, new Date(service.status.detail.offSince as string).toISOString(), 'getServices says since when')
    await switchScanner('TRUE')
    const {from, to} = await timeOff()
    assert.ok(from >= before && from <= stopped, `off from ${new Date(from).toISOString()}, stopped between ${new Date(before).toISOString()} and ${new Date(stopped).toISOString()}`)
    assert.ok(to - from >= 1200, `off for ${to - from} ms`)
  })

  it('marks only its own server\'s accounts after time off: another server\'s scanner followed those', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    // An account that another server sharing the catalog claimed (its SmartScan or its IMAP capture).
    await t.catalog.db('accounts').insert({name: 'carol@other.example.com', server: 'mail2.example.com', first_seen: Date.now()})
    await switchScanner('FALSE')
    await switchScanner('TRUE')
    assert.deepEqual((await uncertainAccounts(t.catalog)).map(a => a.account), ['alice@example.com'])
    assert.ok(lines.some(line => line.endsWith('(1 accounts need it)')), lines.join('\n'))
  })

  it('keeps the moment the scanner stopped across a daemon restart while it is off', async () => {
    log.write('alice@example.com', 'account.created', {})
    const stopFirst = startDaemon()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    const before = Date.now()
    await setAttribute(t.catalog, AT_SERVER, 'ZxBackup_RealTimeScanner', 'FALSE')
    const realtime = async () => (await serviceStatuses(t.catalog, SERVER)).find(s => s.name === 'backup-realtime')!
    await eventually('disabled', async () => ((await realtime()).state === 'disabled' ? true : undefined), 5000)
    const stopped = Date.now()
    await stopFirst()

    const stopSecond = startDaemon()
    try {
      // The new daemon reports the scanner disabled a few times before it is switched on.
      await sleep(1500)
      await setAttribute(t.catalog, AT_SERVER, 'ZxBackup_RealTimeScanner', 'TRUE')
      await eventually('running again', async () => ((await realtime()).state === 'running' ? true : undefined), 5000)
    } finally {
      await stopSecond()
    }

    const {from} = await timeOff()
    assert.ok(from >= before && from <= stopped, `off from ${new Date(from).toISOString()}, stopped between ${new Date(before).toISOString()} and ${new Date(stopped).toISOString()}`)
  })

  it('resumes the redolog after a daemon restart with no time off: the log kept what happened meanwhile', async () => {
    log.write('alice@example.com', 'account.created', {})
    const stopFirst = startDaemon()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    await stopFirst()
    // Written while no daemon runs: the next one applies it from its checkpoint.
    log.write('alice@example.com', 'item.created', {
      item: '2', type: 'contact', folder: '7', flags: [],
    })
    lines.length = 0
    const stopSecond = startDaemon()
    try {
      await eventually('the line written meanwhile', async () => (lines.some(line => line.includes('caught up at seq 2')) ? true : undefined), 5000)
    } finally {
      await stopSecond()
    }

    assert.deepEqual(await uncertainAccounts(t.catalog), [], 'no SmartScan asked for')
    assert.ok(lines.some(line => /not running since .*: the redolog kept what happened meanwhile/.test(line)), lines.join('\n'))
  })

  it('counts as time off a capture whose daemon was killed and restarted before its last report went stale', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    await service.stop()
    // What an IMAP capture killed a second ago leaves: a fresh 'running' report by a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
    const killedAt = Date.now() - 1000
    await reportService(t.catalog, SERVER, {name: 'backup-realtime', state: 'running', detail: {connector: 'imap'}}, killedAt)
    await t.catalog.db('services').where({server: SERVER, name: 'backup-realtime'}).update({pid: Number(dead.stdout)})
    service = new RealtimeService(t.catalog, SERVER, line => lines.push(line), {progressLogMs: 0})
    await reconcile()
    assert.equal((await timeOff()).from, killedAt)
  })

  it('follows a new backupRedologPath within a reconcile, saying what changed, without time off', async () => {
    log.write('alice@example.com', 'account.created', {})
    await reconcile()
    await eventually('caught up', async () => (caughtUpLines().length > 0 ? true : undefined))
    // The extension writes elsewhere now (a new volume), going on from the next seq.
    const moved = new RedologWriter(path.join(t.home, 'redolog-new'), 2)
    moved.write('alice@example.com', 'item.created', {
      item: '2', type: 'contact', folder: '7', flags: [],
    })
    await setAttribute(t.catalog, AT_SERVER, 'backupRedologPath', moved.dir)
    lines.length = 0
    await reconcile()
    assert.equal(lines[0], `backup-realtime: backupRedologPath changed: ${log.dir} -> ${moved.dir}: restarting the realtime capture with the new settings`)
    await eventually('the new directory followed', async () => (service.status.detail.lastSeq === 2 ? true : undefined))
    assert.deepEqual(await uncertainAccounts(t.catalog), [], 'a restart is not time off')
    await reconcile()
    assert.equal(lines.filter(line => line.includes('changed')).length, 1, 'said once')
  })
})
