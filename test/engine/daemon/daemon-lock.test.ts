import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'

import {BackupDaemon} from '../../../src/engine/daemon/backup-daemon.js'
import {
  claimDaemon, daemonHolder, keepDaemon, releaseDaemon,
} from '../../../src/engine/daemon/daemon-lock.js'
import {SERVICE_STALE_MS} from '../../../src/engine/daemon/services.js'
import {THIS_HOST} from '../../../src/engine/operations/process-liveness.js'
import {eventually} from '../../helpers/run-cli.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const SERVER = 'mail1.example.com'

/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(child.stdout)
}

for (const dialect of DIALECTS) {
  describe(`the one daemon of a server (${dialect})`, function () {
    this.timeout(60_000)
    let t: TestCatalog

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    async function holdAs(host: string, pid: number, heartbeatAt: number): Promise<void> {
      await claimDaemon(t.catalog, SERVER)
      await t.catalog.db('services').where({server: SERVER, name: 'daemon'}).update({host, pid, heartbeat_at: heartbeatAt})
    }

    it('claims a free server; while it runs, a second claim gets its pid and host', async () => {
      assert.equal(await claimDaemon(t.catalog, SERVER), undefined)
      const holder = await claimDaemon(t.catalog, SERVER)
      assert.deepEqual([holder?.host, holder?.pid], [THIS_HOST, process.pid])
      assert.equal(await claimDaemon(t.catalog, 'mail2.example.com'), undefined, 'another server has a daemon of its own')
      // getServices lists the services only, not the daemon's own row.
      assert.deepEqual((await daemonHolder(t.catalog, SERVER))?.pid, process.pid)
    })

    it('is claimable again at once after a clean stop', async () => {
      await claimDaemon(t.catalog, SERVER)
      await releaseDaemon(t.catalog, SERVER)
      assert.equal(await claimDaemon(t.catalog, SERVER), undefined)
    })

    it('waits for a daemon of another host until its heartbeat is stale', async () => {
      await holdAs('other-host', 4242, Date.now())
      assert.deepEqual(await claimDaemon(t.catalog, SERVER), {host: 'other-host', pid: 4242, heartbeatAt: (await daemonHolder(t.catalog, SERVER))!.heartbeatAt})
      await holdAs('other-host', 4242, Date.now() - SERVICE_STALE_MS - 1000)
      assert.equal(await claimDaemon(t.catalog, SERVER), undefined)
      assert.equal((await daemonHolder(t.catalog, SERVER))?.host, THIS_HOST)
    })

    it('takes over at once from a daemon of this host whose pid is gone (kill -9)', async () => {
      await holdAs(THIS_HOST, deadPid(), Date.now())
      assert.equal(await claimDaemon(t.catalog, SERVER), undefined)
      assert.equal((await daemonHolder(t.catalog, SERVER))?.pid, process.pid)
    })

    it('lets exactly one of several daemons starting at once win', async () => {
      const claims = await Promise.all(Array.from({length: 6}, () => claimDaemon(t.catalog, SERVER)))
      assert.equal(claims.filter(c => c === undefined).length, 1)
    })

    it('tells a daemon that another one took the server over', async () => {
      await claimDaemon(t.catalog, SERVER)
      assert.equal(await keepDaemon(t.catalog, SERVER), true)
      await holdAs('other-host', 4242, Date.now())
      assert.equal(await keepDaemon(t.catalog, SERVER), false)
      await releaseDaemon(t.catalog, SERVER)
      assert.equal((await daemonHolder(t.catalog, SERVER))?.host, 'other-host', 'a lost claim is not released')
    })

    it('stops a daemon whose server another daemon took over, leaving the services to it', async () => {
      const lines: string[] = []
      const controller = new AbortController()
      const running = new BackupDaemon(t.catalog, SERVER, line => lines.push(line)).run(controller.signal)
      try {
        await eventually('the daemon running', async () => ((await daemonHolder(t.catalog, SERVER))?.pid === process.pid ? true : undefined))
        await t.catalog.db('services').where({server: SERVER, name: 'daemon'}).update({host: 'other-host', pid: 4242, heartbeat_at: Date.now()})
        await assert.rejects(running, new RegExp(String.raw`^UserError: another backup daemon took server mail1\.example\.com over \(pid 4242 on host other-host, `
          + String.raw`last heartbeat .* ago\) while this one \(pid \d+\) was not heartbeating for 10 s: stopped$`))
      } finally {
        controller.abort()
        await running.catch(() => {})
      }

      assert.equal((await daemonHolder(t.catalog, SERVER))?.host, 'other-host')
      assert.ok(lines.some(line => line.startsWith('backup daemon stopping: another daemon took server')), lines.join('\n'))
    })
  })
}
