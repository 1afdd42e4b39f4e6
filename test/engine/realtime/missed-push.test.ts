// A push connection that stays open but reports nothing (Dovecot 2.3's NOTIFY does that at times: see CLOSE_POLL_MS in
// imap-realtime.ts) is found out by the safety-net poll, counted, said once in the log and opened anew, after which the
// account is pushed again. The deaf connection is made for real: its Dovecot process is stopped (SIGSTOP), so that the
// TCP connection stays up and the server sends nothing on it. The changes are made by a separate IMAP client logged in as the user.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {eventually} from '../../helpers/run-cli.js'
import {
  imapScenario, type LiveItem, message, type Scenario,
} from '../smartscan/imap-scenario.js'
import {following} from './following.js'

/** The safety-net poll of a pushed account, short here so that a missed push is found within the test. */
const SAFETY_NET_MS = 3000
/** Bounds a broken test only. */
const WITHIN_MS = 20_000

describe('realtime capture: a push connection that stopped reporting', function () {
  this.timeout(120_000)
  let s: Scenario
  const stopped: number[] = []

  beforeEach(async () => {
    s = await imapScenario('sqlite')
  })

  afterEach(async () => {
    for (const pid of stopped.splice(0)) signal(pid, 'SIGCONT')
    await s.cleanup()
  })

  /** Until the account's live items hold a message whose metadata (its subject) includes `subject`. */
  function capturedIn(address: string, what: string, subject: string): Promise<true> {
    return eventually(what, async () => {
      const items: LiveItem[] = await s.liveItems(address)
      return items.some(item => JSON.stringify(item.metadata).includes(subject)) ? true : undefined
    }, WITHIN_MS)
  }

  it('is found by the safety-net poll, counted, logged once and opened anew; the account is pushed again', async () => {
    const alice = await s.user('alice')
    await s.dovecot.loadMessages(alice, {INBOX: [{raw: message('already there')}], Archive: []})
    const client = await s.client(alice)
    const captured = (what: string, subject: string) => capturedIn(alice, what, subject)
    const lines: string[] = []
    await following(s, lines, {pushedIntervalMs: SAFETY_NET_MS}, async realtime => {
      const push = () => realtime.status.push
      await captured('the first cycle', 'already there')
      await eventually('the push in force (NOTIFY)', async () => (push().mode === 'notify' && push().connections === 1 ? true : undefined), WITHIN_MS)
      // The one made deaf must be the connection in force.
      const deaf = await settledPushProcess(s, alice)
      signal(deaf, 'SIGSTOP')
      stopped.push(deaf)

      await client.append('Archive', message('not pushed'))
      await captured('the append, by the safety-net poll', 'not pushed')
      await eventually('the missed push counted', async () => (push().missed === 1 ? true : undefined), WITHIN_MS)
      assert.equal(lines.filter(line => line.includes(`${alice}: changes found by polling that the AppServer did not push`)).length, 1, lines.join('\n'))

      // Opened anew: another server process, which pushes.
      const fresh = await eventually('a new push connection', async () => {
        const pid = pushProcesses(s, alice).find(other => other !== deaf)
        return pid !== undefined && push().connections === 1 ? pid : undefined
      }, WITHIN_MS)
      assert.notEqual(fresh, deaf)
      const {received} = push()
      await client.append('Archive', message('pushed again'))
      await captured('the append after the reopening', 'pushed again')
      await eventually('its push', async () => (push().received > received ? true : undefined), WITHIN_MS)
      assert.equal(push().missed, 1, 'pushed, not missed')
    })
  })

  it('after a folder is created, the account is polled every second: a change its push then misses is captured well before the safety net', async () => {
    const alice = await s.user('alice')
    await s.dovecot.loadMessages(alice, {INBOX: [{raw: message('already there')}]})
    const client = await s.client(alice)
    const captured = (what: string, subject: string) => capturedIn(alice, what, subject)
    const lines: string[] = []
    // A safety net far beyond the deadline of `captured`: only the close polling can capture in time.
    await following(s, lines, {pushedIntervalMs: 10 * WITHIN_MS}, async realtime => {
      const push = () => realtime.status.push
      await captured('the first cycle', 'already there')
      await eventually('the push in force (NOTIFY)', async () => (push().mode === 'notify' && push().connections === 1 ? true : undefined), WITHIN_MS)
      await client.mailboxCreate('Projects')
      await client.append('Projects', message('in a new folder'))
      await captured('the new folder\'s message', 'in a new folder')
      const deaf = await settledPushProcess(s, alice)
      signal(deaf, 'SIGSTOP')
      stopped.push(deaf)
      await client.append('Projects', message('not pushed'))
      await captured('the message the push missed, by the close polling', 'not pushed')
      assert.equal(push().missed, 0, 'not judged while polled every second: such a poll may come before the push')
    })
  })
})

/** The push connection's process, once the same for a second. */
async function settledPushProcess(s: Scenario, address: string): Promise<number> {
  let last: number | undefined
  let since = Date.now()
  return eventually('the push connection\'s process', async () => {
    const pids = pushProcesses(s, address)
    const pid = pids.length === 1 ? pids[0] : undefined
    if (pid !== last) {
      last = pid
      since = Date.now()
    }

    return pid !== undefined && Date.now() - since >= 1000 ? pid : undefined
  }, WITHIN_MS)
}

/**
 * The Dovecot processes serving push connections of the account: the imap processes watching (inotify) its mailbox
 * list index log, which NOTIFY does and a sync cycle does not.
 */
function pushProcesses(s: Scenario, address: string): number[] {
  const log = path.join(s.dovecot.maildirOf(address), 'dovecot.list.index.log')
  const inode = `ino:${statSync(log).ino.toString(16)} `
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'imap') continue
      const fds = readdirSync(`/proc/${entry}/fdinfo`)
      if (fds.some(fd => readFileSync(`/proc/${entry}/fdinfo/${fd}`, 'utf8').includes(inode))) pids.push(Number(entry))
    } catch {
      // The process ended meanwhile.
    }
  }

  return pids
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone.
  }
}
