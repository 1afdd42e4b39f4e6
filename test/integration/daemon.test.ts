import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'

import {RedologWriter} from '../helpers/redolog-writer.js'
import {
  eventually, outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'

const SERVER = 'mail1.example.com'

/** The daemon as systemd runs it: following the redolog, the configuration and SIGTERM. */
describe('backup daemon', function () {
  this.timeout(90_000)
  let home: string
  let env: NodeJS.ProcessEnv
  let log: RedologWriter
  let daemon: ChildProcess | undefined

  beforeEach(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-daemon-'))
    env = {CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: SERVER}
    log = new RedologWriter(path.join(home, 'redolog'))
    const set = await runCli(['config', 'set', 'server', SERVER, 'backupRedologPath', log.dir], env)
    assert.equal(set.code, 0, set.stderr)
  })

  afterEach(() => {
    daemon?.kill('SIGKILL')
    rmSync(home, {recursive: true, force: true})
  })

  async function json(args: string[]): Promise<any> {
    const result = await runCli([...args, '--json'], env)
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }

  async function service(name: string): Promise<any> {
    return (await json(['backup', 'getServices'])).services.find((s: any) => s.name === name)
  }

  async function flagsOf(item: string): Promise<string[] | undefined> {
    const result = await runCli(['backup', 'getItem', 'alice@example.com', item, '--json'], env)
    if (result.code !== 0) return undefined
    const states = JSON.parse(result.stdout).states ?? []
    return states.at(-1)?.flags
  }

  it('follows new lines, switches the scanner off and on from config, and stops cleanly on SIGTERM', async () => {
    daemon = startCli(['backup', 'daemon'], env)
    await eventually('backup-realtime running', async () => ((await service('backup-realtime'))?.state === 'running' ? true : undefined))
    log.write('alice@example.com', 'account.created', {})
    log.write('alice@example.com', 'item.created', {
      item: '1', type: 'contact', folder: '7', flags: ['a'],
    })
    await eventually('the item applied', async () => ((await flagsOf('1'))?.join(',') === 'a' ? true : undefined))

    const beforeOff = Date.now()
    const off = await runCli(['config', 'set', 'server', SERVER, 'ZxBackup_RealTimeScanner', 'FALSE'], env)
    assert.equal(off.code, 0)
    await eventually('backup-realtime disabled', async () => ((await service('backup-realtime')).state === 'disabled' ? true : undefined), 5000)
    const disabled = Date.now()
    log.write('alice@example.com', 'item.flags', {item: '1', flags: ['b']})
    await new Promise(resolve => {
      setTimeout(resolve, 1500)
    })
    assert.deepEqual(await flagsOf('1'), ['a'], 'a switched-off scanner applies nothing')

    const on = await runCli(['backup', 'doStartService', 'backup-realtime'], env)
    assert.equal(on.code, 0, on.stderr)
    await eventually('the change applied after restart', async () => ((await flagsOf('1'))?.join(',') === 'b' ? true : undefined))
    // The restarted scanner counts from its own start, and says once that it reached the end of the feed.
    await eventually('the caught-up line', async () => (/caught up at seq 3 \(1 transaction applied since the scanner started\)/.test(outputOf(daemon!).stderr) ? true : undefined), 5000)
    const services = await json(['backup', 'getServices'])
    assert.equal(services.smartScanRequired.length, 1)
    assert.match(services.smartScanRequired[0].reason, /the Realtime Scanner was off from .* run a SmartScan/)
    // From the moment the scanner stopped, not from its last heartbeat while switched off.
    const from = Date.parse(/off from (\S+) to/.exec(services.smartScanRequired[0].reason)![1])
    assert.ok(from >= beforeOff && from <= disabled, `${services.smartScanRequired[0].reason}: switched off between ${new Date(beforeOff).toISOString()} and ${new Date(disabled).toISOString()}`)
    assert.match(outputOf(daemon).stderr, /Realtime Scanner was off/)

    daemon.kill('SIGTERM')
    const exit = await waitFor(daemon)
    assert.equal(exit.code, 0, exit.stderr)
    assert.match(exit.stderr, /backup daemon stopping: finishing its current batch/)
    assert.match(exit.stderr, /backup daemon stopped/)
    assert.equal((await service('backup-realtime')).state, 'stopped')
  })

  it('catches up once and exits, then finds nothing new', async () => {
    log.write('bob@example.com', 'account.created', {})
    const once = await json(['backup', 'daemon', 'once', 'true'])
    assert.equal(once.transactions, 1)
    assert.equal((await json(['backup', 'daemon', 'once', 'true'])).transactions, 0)
  })

  it('once true: a feed of bad lines only says that no transaction is applied yet, not a seq', async () => {
    log.raw('not json\n')
    log.raw('also bad\n')
    const once = await runCli(['backup', 'daemon', 'once', 'true'], env)
    // Rejected lines are a failure a cron job must see: counted, and exit 1 (it was 0, as if all was well).
    assert.equal(once.code, 1, once.stderr)
    assert.equal(once.stdout, 'applied 0 transactions (0 revisions, 2 errors), no transaction applied yet\n'
      + 'REJECTED: 2 redolog lines were not applied (listed above; backup getBackupInfo keeps them); exit code 1\n')
    assert.doesNotMatch(once.stderr, /last seq/)
    // Read again from where the bad lines ended: still none applied, not "seq 0".
    assert.equal((await runCli(['backup', 'daemon', 'once', 'true'], env)).stdout, 'applied 0 transactions (0 revisions, 0 errors), no transaction applied yet\n')
    log.write('bob@example.com', 'account.created', {})
    const good = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.match(good.stdout, /^applied 1 transactions \(.*\), last seq 1\n$/)
    assert.equal(good.code, 0, good.stderr)
  })

  it('once true: a redolog directory gone or replaced by a file is one line and exit 1', async () => {
    // Accepted when it existed; unmounted (or replaced) afterwards.
    rmSync(log.dir, {recursive: true})
    const missing = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.equal(missing.code, 1, missing.stderr)
    assert.equal(missing.stderr, `Error: the redolog directory ${log.dir} (backupRedologPath) does not exist: mount or create it, or set backupRedologPath `
      + 'to the directory the mailbox-server extension writes (carbonio config set server <host> backupRedologPath <dir>)\n')

    writeFileSync(log.dir, '')
    const file = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.equal(file.code, 1, file.stderr)
    assert.match(file.stderr, /^Error: the redolog directory \S+ \(backupRedologPath\) is not a directory: set backupRedologPath to the directory/)
    assert.equal(file.stderr.split('\n').length, 2, file.stderr)
  })

  it('says once that the redolog directory is missing, shows backup-realtime failing, and follows it once it appears', async () => {
    rmSync(log.dir, {recursive: true})
    daemon = startCli(['backup', 'daemon'], env)
    const failing = await eventually('backup-realtime failing', async () => {
      const status = await service('backup-realtime')
      return status?.state === 'failing' ? status : undefined
    })
    assert.match(failing.detail.error, /^the redolog directory \S+ \(backupRedologPath\) does not exist: mount or create it/)
    assert.equal(failing.detail.connector, 'redolog')

    // The mount comes: the next retry (within the backoff) follows it.
    mkdirSync(log.dir)
    log.rotate()
    log.write('alice@example.com', 'account.created', {})
    await eventually('the line applied', async () => {
      const status = await service('backup-realtime')
      return status.state === 'running' && status.detail.lastSeq === 1 && status.detail.error === undefined ? true : undefined
    })
    const said = outputOf(daemon).stderr.split('\n').filter(line => line.includes('does not exist'))
    assert.equal(said.length, 1, outputOf(daemon).stderr)
    assert.match(outputOf(daemon).stderr, /backup-realtime: working again/)
  })

  it('refuses a second daemon for the server in one line naming the first, and starts at once after the first is killed -9', async () => {
    daemon = startCli(['backup', 'daemon'], env)
    await eventually('backup-realtime running', async () => ((await service('backup-realtime'))?.state === 'running' ? true : undefined))
    const second = await runCli(['backup', 'daemon'], env)
    assert.equal(second.code, 1, second.stderr)
    const said = `^Error: a backup daemon already runs for server ${SERVER}: pid ${daemon.pid} on host ${hostname()}, last heartbeat .* ago; `
    assert.match(second.stderr, new RegExp(`${said}stop it first \\(systemctl stop carbonio-backup\\)\n$`))
    assert.equal(second.stdout, '')
    assert.equal((await service('backup-realtime')).pid, daemon.pid, 'the first daemon still runs the services')
    // A one-shot catch-up would race the daemon for the checkpoint just the same.
    const once = await runCli(['backup', 'daemon', 'once', 'true'], env)
    assert.equal(once.code, 1, once.stderr)
    assert.match(once.stderr, new RegExp(`${said}stop it first \\(systemctl stop carbonio-backup\\)\n$`))
    assert.equal(once.stdout, '')

    daemon.kill('SIGKILL')
    await waitFor(daemon)
    // Its heartbeat is fresh, but its pid is gone on this host: no waiting for the heartbeat to go stale.
    daemon = startCli(['backup', 'daemon'], env)
    const next = daemon
    await eventually('the next daemon running', async () => ((await service('backup-realtime'))?.pid === next.pid ? true : undefined), 8000)
    assert.match(outputOf(next).stderr, /backup daemon started for server/)
  })

  it('of two daemons started at once, exactly one runs', async () => {
    const both = [startCli(['backup', 'daemon'], env), startCli(['backup', 'daemon'], env)]
    try {
      const refused = await Promise.race(both.map(child => waitFor(child, 20_000).then(exit => ({child, exit}))))
      assert.equal(refused.exit.code, 1, refused.exit.stderr)
      assert.match(refused.exit.stderr, /^Error: a backup daemon already runs for server/)
      const survivor = both.find(child => child !== refused.child)!
      await eventually('the other one running', async () => ((await service('backup-realtime'))?.pid === survivor.pid ? true : undefined))
      assert.equal(survivor.exitCode, null)
      assert.doesNotMatch(outputOf(survivor).stderr, /another scanner moved/)
    } finally {
      for (const child of both) child.kill('SIGKILL')
    }
  })
})
