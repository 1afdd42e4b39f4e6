// Realtime capture from an IMAP server WITHOUT the NOTIFY extension, as a production Carbonio (Zimbra's IMAP) is:
// the AppServer pushes INBOX only (IDLE) and every other folder must be found by polling (LIST-STATUS every second).
// The shared test Dovecot offers NOTIFY (mailbox_list_index = yes), so this file starts its own with
// mailbox_list_index = no, checks that it really offers no NOTIFY, and stops it afterwards. The changes are made by a
// separate IMAP client logged in as the user (imapflow), never through the plugin.
import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {serverConfig} from '../../../src/engine/config/config-store.js'
import {RealtimeService} from '../../../src/engine/daemon/realtime-service.js'
import {eventually} from '../../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../../setup/dovecot-server.js'
import {
  imapScenario, type LiveItem, message, type Scenario, SERVER,
} from '../smartscan/imap-scenario.js'

/**
 * A push or a poll (every second) commits a change within about a second; this deadline leaves room for a loaded
 * machine but not for a poll at the 30 s safety-net interval of a fully pushed account.
 */
const CAPTURED_MS = 6000
/** Starting up (first cycle of the account, the push connection) is not what is measured. */
const STARTED_MS = 20_000

/** What the item's subject is found in. */
function subject(item: LiveItem): string {
  return JSON.stringify(item.metadata)
}

interface PushDetail {
  connections: number
  mode: null | string
  received: number
}

describe('realtime capture from an IMAP server without NOTIFY (IDLE on INBOX, other folders polled)', function () {
  this.timeout(120_000)
  let dovecot: TestDovecot
  let s: Scenario | undefined
  let service: RealtimeService | undefined
  const lines: string[] = []

  before(async () => {
    dovecot = await startTestDovecot({notify: false})
  })

  after(async () => {
    await dovecot?.stop()
  })

  beforeEach(async () => {
    s = await imapScenario('sqlite', {dovecot})
    lines.length = 0
  })

  afterEach(async () => {
    await service?.stop()
    service = undefined
    await s?.cleanup()
    s = undefined
  })

  function push(): PushDetail {
    return service!.status.detail.push as PushDetail
  }

  /** Waits until the account's committed live items satisfy the check. */
  function captured(address: string, what: string, check: (items: LiveItem[]) => boolean, timeoutMs = CAPTURED_MS): Promise<LiveItem[]> {
    return eventually(what, async () => {
      const items = await s!.liveItems(address)
      return check(items) ? items : undefined
    }, timeoutMs)
  }

  it('captures an INBOX append pushed by IDLE, and an append, a flag change, a move and a new folder elsewhere by polling', async () => {
    const alice = await s!.user('alice')
    await s!.dovecot.loadMessages(alice, {INBOX: [{raw: message('already there')}]})
    const client: ImapFlow = await s!.client(alice)
    assert.ok(client.capabilities.has('IDLE'), [...client.capabilities.keys()].join(' '))
    assert.ok(!client.capabilities.has('NOTIFY'), `the server must not offer NOTIFY: ${[...client.capabilities.keys()].join(' ')}`)
    await client.mailboxCreate('Archive')

    service = new RealtimeService(s!.t.catalog, SERVER, line => lines.push(line))
    await service.reconcile(await serverConfig(s!.t.catalog, SERVER))
    await captured(alice, 'the existing message', items => items.length === 1, STARTED_MS)
    await eventually('the IDLE push connection', async () => (push().connections === 1 && push().mode !== null ? true : undefined), STARTED_MS)
    assert.equal(service.status.state, 'running')
    assert.equal(service.status.detail.connector, 'imap')
    assert.equal(push().mode, 'idle')
    assert.ok(lines.some(line => line.includes('backup-realtime: the AppServer pushes changes of INBOX only (IDLE, no NOTIFY): other folders are polled')), lines.join('\n'))

    // INBOX: pushed by IDLE. Dovecot holds its IDLE notifications back 500 ms (to batch them), so the poll of the
    // second may still get there first; the push must come all the same.
    const {received} = push()
    await client.append('INBOX', message('inbox live'))
    let items = await captured(alice, 'the INBOX append', list => list.some(item => subject(item).includes('inbox live')))
    const inboxLive = items.find(item => subject(item).includes('inbox live'))!
    assert.equal(inboxLive.path, '/INBOX')
    await eventually('the push of the INBOX append', async () => (push().received > received ? true : undefined), CAPTURED_MS)

    // Another folder: found by polling.
    const appended = await client.append('Archive', message('archive live'))
    assert.ok(appended && appended.uid, 'UIDPLUS gives the appended UID')
    items = await captured(alice, 'the Archive append', list => list.some(item => subject(item).includes('archive live')))
    const archiveLive = items.find(item => subject(item).includes('archive live'))!
    assert.equal(archiveLive.path, '/Archive')
    assert.ok(!archiveLive.flags.includes(String.raw`\Flagged`))

    const archive = await client.getMailboxLock('Archive')
    try {
      await client.messageFlagsAdd(String(appended.uid), [String.raw`\Flagged`], {uid: true})
    } finally {
      archive.release()
    }

    await captured(alice, 'the flag in Archive', list => list.some(item => item.id === archiveLive.id && item.flags.includes(String.raw`\Flagged`)))

    const inbox = await client.getMailboxLock('INBOX')
    try {
      await client.messageMove({subject: 'inbox live'}, 'Archive')
    } finally {
      inbox.release()
    }

    items = await captured(alice, 'the move into Archive', list => list.some(item => item.id === inboxLive.id && item.path === '/Archive'))
    assert.equal(items.length, 3)
    assert.ok(!items.some(item => item.path === '/INBOX' && subject(item).includes('inbox live')), JSON.stringify(items))

    // A folder made after the capture started, and a message in it.
    await client.mailboxCreate('Projects')
    await client.append('Projects', message('projects live'))
    items = await captured(alice, 'the append to a new folder', list => list.some(item => subject(item).includes('projects live')))
    assert.equal(items.find(item => subject(item).includes('projects live'))!.path, '/Projects')

    assert.equal(push().mode, 'idle')
    assert.equal(service.status.state, 'running')
    assert.ok(!lines.some(line => /retrying/.test(line)), lines.join('\n'))
  })
})
