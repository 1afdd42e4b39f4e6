import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import path from 'node:path'

import {message} from '../engine/smartscan/imap-scenario.js'
import {configureAppServerByCli} from '../helpers/imap-cli-bed.js'
import {
  eventually, outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'
import {fillVolume, mountSmallVolume, type SmallVolume} from '../helpers/small-volume.js'
import {getTestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

/**
 * The daemon's realtime capture while the backup volume is full: every account fails the same way, so the log must
 * say it once per retry in the line that names the backup path and the fix (not a bare ENOSPC per account), the
 * daemon's own loop must not repeat its failure twice a second, and once space is freed every message delivered
 * meanwhile is captured. A small tmpfs is the full volume: this needs root and a kernel that lets it mount one.
 */
describe('backup daemon (IMAP capture) on a full backup volume', function () {
  this.timeout(90_000)
  let small: SmallVolume | undefined
  let root: string
  let volume: string
  let daemon: ChildProcess | undefined

  before(function () {
    small = mountSmallVolume(this, 'cb-daemon-full-', '2m')
    root = small.root
    volume = small.volume
  })

  after(async () => {
    // Stopped before the unmount: its open catalog would keep the volume busy.
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGKILL')
      await waitFor(daemon).catch(() => {})
    }

    small?.remove()
  })

  it('logs the full volume once per retry, naming it, and captures what was missed once there is room', async () => {
    const home = path.join(volume, 'backup')
    const env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1'}
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    const users = [`alice@${domain}`, `bob@${domain}`]
    for (const user of users) {
      await dovecot.addUser(user, 'pw')
      await dovecot.loadMessages(user, {INBOX: [{raw: message(`first of ${user}`)}]})
    }

    await configureAppServerByCli(env, root, dovecot, dovecot.directoryCommand(domain))
    const items = async (user: string) => {
      const info = await runCli(['backup', 'getAccountInfo', user, '--json'], env)
      return info.code === 0 ? JSON.parse(info.stdout).counts.liveItems as number : 0
    }

    daemon = startCli(['backup', 'daemon'], {...env, CARBONIO_BACKUP_REALTIME_POLL_MS: '200'})
    for (const user of users) await eventually(`the first message of ${user}`, async () => (await items(user)) === 1 ? true : undefined)

    const filler = path.join(volume, 'filler')
    fillVolume(filler)
    // Incompressible: it cannot fit in what the filler left.
    for (const user of users) await dovecot.loadMessages(user, {INBOX: [{raw: message(`while full ${user}`, randomBytes(96 * 1024).toString('base64'))}]})
    const said = `backup-realtime: the backup at ${home} is out of space (`
    await eventually('the full volume logged', async () => (outputOf(daemon!).stderr.includes(said) ? true : undefined))
    await new Promise(resolve => {
      setTimeout(resolve, 2000)
    })
    const log = outputOf(daemon).stderr
    assert.doesNotMatch(log, /backup-realtime: [^ ]+@[^ ]+: (ENOSPC|.*SQLITE_FULL)/, 'no bare per-account failure')
    const daemonLines = log.split('\n').filter(line => / daemon: /.test(line))
    assert.ok(daemonLines.length <= 2, `the daemon's loop repeats its failure:\n${daemonLines.join('\n')}`)

    rmSync(filler)
    for (const user of users) await eventually(`the message ${user} got while the volume was full`, async () => (await items(user)) === 2 ? true : undefined, 40_000)
    assert.match(outputOf(daemon).stderr, /backup-realtime: the backup accepts writes again: catching up with every account/)
    daemon.kill('SIGTERM')
    assert.equal((await waitFor(daemon)).code, 0)
  })
})
