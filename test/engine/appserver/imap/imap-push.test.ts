import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {ImapPush, type ImapPushOptions} from '../../../../src/engine/appserver/imap/imap-push.js'
import {imapSettings} from '../../../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig} from '../../../../src/engine/config/config-store.js'
import {eventually} from '../../../helpers/run-cli.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from '../../smartscan/imap-scenario.js'

/** Bounds a broken test only: Dovecot pushes about 0.5 s after a change (1.5 s for a rename). */
const PUSHED_MS = 10_000

/** Makes the change, then waits until the push connection reports it. */
async function pushedBy(what: string, watched: {changes: () => number}, change: () => Promise<unknown>): Promise<void> {
  const before = watched.changes()
  await change()
  await eventually(what, async () => (watched.changes() > before ? true : undefined), PUSHED_MS)
}

describe('IMAP push connection (Dovecot)', function () {
  this.timeout(60_000)
  let s: Scenario
  const pushes: ImapPush[] = []

  beforeEach(async () => {
    s = await imapScenario('sqlite')
  })

  afterEach(async () => {
    await Promise.all(pushes.splice(0).map(push => push.close()))
    await s.cleanup()
  })

  /** A push connection for the user, counting what it reports. */
  async function watch(user: string, options: Partial<ImapPushOptions> = {}): Promise<{changes: () => number; lost: string[]; push: ImapPush}> {
    let changes = 0
    const lost: string[] = []
    const push = new ImapPush(imapSettings(await serverConfig(s.t.catalog, SERVER)), user, {
      onChange() {
        changes++
      },
      onLost: error => lost.push(error),
      ...options,
    })
    pushes.push(push)
    push.start()
    // In force: it reports a change once, for what happened before it was.
    await eventually('the push in force', async () => (push.mode && changes > 0 ? true : undefined), PUSHED_MS)
    return {changes: () => changes, lost, push}
  }

  it('NOTIFY: a change in any folder, a new folder and a rename are pushed', async () => {
    const user = await s.user('notify')
    await s.dovecot.loadMessages(user, {INBOX: [{raw: message('first')}], Archive: []})
    const watched = await watch(user)
    assert.equal(watched.push.mode, 'notify')
    const client: ImapFlow = await s.client(user)
    await pushedBy('an append to Archive', watched, () => client.append('Archive', message('archived')))
    await pushedBy('a keyword in INBOX', watched, async () => {
      const lock = await client.getMailboxLock('INBOX')
      try {
        await client.messageFlagsAdd('1:*', ['$label2'])
      } finally {
        lock.release()
      }
    })
    await pushedBy('a new folder', watched, () => client.mailboxCreate('Projects'))
    await pushedBy('a rename', watched, () => client.mailboxRename('Projects', 'Work'))
  })

  it('reopen() opens the connection anew at once, reports a change to catch up, and pushes go on', async () => {
    const user = await s.user('renotify')
    await s.dovecot.loadMessages(user, {INBOX: [{raw: message('first')}], Archive: []})
    const watched = await watch(user)
    const client = await s.client(user)
    for (const round of [1, 2]) {
      const before = watched.changes()
      watched.push.reopen()
      // Nothing changed on the server: this change is the catch-up once the new connection is in force.
      await eventually(`the catch-up of round ${round}`, async () => (watched.changes() > before ? true : undefined), PUSHED_MS)
      assert.equal(watched.push.mode, 'notify')
      await pushedBy(`an append to Archive after round ${round}`, watched, () => client.append('Archive', message(`after ${round}`)))
      await pushedBy(`a new folder after round ${round}`, watched, () => client.mailboxCreate(`New ${round}`))
    }

    assert.deepEqual(watched.lost, [], 'a reopening is no loss (no backoff, no onLost)')
  })

  it(String.raw`IDLE only: INBOX is pushed, and the push reads nothing and changes nothing (\Seen stays unset)`, async () => {
    const user = await s.user('idle')
    await s.dovecot.loadMessages(user, {INBOX: [{raw: message('unread')}]})
    const watched = await watch(user, {notify: false})
    assert.equal(watched.push.mode, 'idle')
    const client = await s.client(user)
    await pushedBy('an append to INBOX', watched, () => client.append('INBOX', message('new')))
    const lock = await client.getMailboxLock('INBOX')
    try {
      const flags = []
      for await (const item of client.fetch('1:*', {flags: true})) flags.push(...item.flags ?? [])
      assert.ok(!flags.includes(String.raw`\Seen`))
    } finally {
      lock.release()
    }
  })

  it('reconnects with backoff after a server restart and reports a change once in force again', async () => {
    const user = await s.user('restart')
    const watched = await watch(user, {firstBackoffMs: 200})
    const before = watched.changes()
    await s.dovecot.restart()
    await eventually('the push in force again', async () => (watched.push.mode && watched.changes() > before ? true : undefined), PUSHED_MS)
    assert.ok(watched.lost.length > 0)
    const client = await s.client(user)
    await pushedBy('an append after the restart', watched, () => client.append('INBOX', message('after')))
  })

  it('close() ends it at once, even while it waits to reconnect', async () => {
    const user = await s.user('close')
    const watched = await watch(user, {firstBackoffMs: 60_000})
    await s.dovecot.restart()
    await eventually('the connection lost', async () => (watched.lost.length > 0 ? true : undefined), PUSHED_MS)
    const started = Date.now()
    await watched.push.close()
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`)
    assert.equal(watched.push.mode, null)
  })
})
