// The backup's volume remounted read-only under a running capture (ext4's errors=remount-ro does it after a disk
// error). Node's recursive mkdir reports that as ENOENT, not EROFS: the capture logged "a@...: ENOENT: no such file or
// directory, mkdir" as the account's own failure and getServices showed it running.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {eventually} from '../../helpers/run-cli.js'
import {imapScenario, message, type Scenario} from '../smartscan/imap-scenario.js'
import {following} from './following.js'

describe('realtime capture into a backup whose volume is read-only', function () {
  this.timeout(60_000)
  let s: Scenario
  let items: string

  beforeEach(async function () {
    s = await imapScenario('sqlite')
    items = path.join(s.t.home, 'items')
    mkdirSync(items)
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,ro', 'tmpfs', items]).status !== 0) {
      await s.cleanup()
      this.skip()
    }
  })

  afterEach(async () => {
    spawnSync('umount', [items])
    await s.cleanup()
  })

  it('is waited out as the backup\'s failure, named read-only, and captures once writable again', async () => {
    const alice = await s.user('alice')
    await s.dovecot.loadMessages(alice, {INBOX: [{raw: message('while read-only')}]})
    const lines: string[] = []
    await following(s, lines, {}, async realtime => {
      const error = await eventually('the failure', async () => realtime.status.error, 10_000)
      assert.match(error, /read-only/)
      assert.deepEqual(lines.filter(line => line.includes('ENOENT')), [])
      assert.equal(spawnSync('mount', ['-o', 'remount,rw', items]).status, 0)
      await eventually('captured', async () => ((await s.liveItems(alice)).length === 1 ? true : undefined), 20_000)
    })
  })
})
