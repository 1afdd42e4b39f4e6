import type {ChildProcess} from 'node:child_process'

import {ImapFlow} from 'imapflow'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Catalog} from '../../src/engine/catalog/catalog.js'

import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {configureAppServerByCli, userClient} from '../helpers/imap-cli-bed.js'
import {
  eventually, outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'
import {getTestDovecot, type TestDovecot, uniqueDomain} from '../setup/dovecot-server.js'

const SERVER = 'mail1.example.com'

/** Generous for a loaded 2-core machine; the measured latency is printed. Dovecot itself waits about 0.5 s before it pushes (1.5 s for a rename). */
const PUSH_DEADLINE_MS = 5000
/** Long enough that only a push can explain a capture within the deadline. */
const POLL_MS = 30_000
const USER_PASSWORD = 'user-pw-3c'

const flagged = (item: Live) => item.flags.includes(String.raw`\Flagged`) && item.flags.includes(String.raw`\Seen`)
const tagged = (item: Live) => item.flags.some(flag => flag.toLowerCase() === '$label1')
const answered = (item: Live) => item.flags.includes(String.raw`\Answered`)

interface Live {
  id: string
  path: string
  deleted: boolean
  flags: string[]
  digest: null | string
  subject: string
}

/**
 * The daemon in its own process, with polling every 30 s: each kind of change, made by a separate IMAP client logged
 * in as the user, must be a committed revision in the catalog within the deadline, which only the push (NOTIFY)
 * can explain. One account per kind of change, all followed by the one daemon.
 */
describe('backup daemon: realtime capture pushed by the IMAP AppServer', function () {
  this.timeout(120_000)
  const NAMES = ['append', 'flags', 'keyword', 'copy', 'move', 'expunge', 'create', 'rename', 'renamed', 'rmfolder', 'emptied', 'restart'] as const
  type Name = (typeof NAMES)[number]
  const users = {} as Record<Name, string>
  const clients: ImapFlow[] = []
  const latencies: string[] = []
  let dovecot: TestDovecot
  let home: string
  let env: NodeJS.ProcessEnv
  let daemon: ChildProcess | undefined
  let catalog: Catalog

  before(async function () {
    this.timeout(120_000)
    dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    home = mkdtempSync(path.join(tmpdir(), 'cb-daemon-push-'))
    env = {CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: SERVER, CARBONIO_BACKUP_REALTIME_POLL_MS: String(POLL_MS)}
    for (const name of NAMES) {
      users[name] = `${name}@${domain}`
      await dovecot.addUser(users[name], USER_PASSWORD)
    }

    await dovecot.loadMessages(users.flags, {INBOX: [{raw: message('to flag')}]})
    await dovecot.loadMessages(users.keyword, {INBOX: [{raw: message('to tag')}]})
    await dovecot.loadMessages(users.copy, {INBOX: [{raw: message('to copy')}], Archive: []})
    await dovecot.loadMessages(users.move, {INBOX: [{raw: message('to move')}], Archive: []})
    await dovecot.loadMessages(users.expunge, {INBOX: [{raw: message('to keep')}, {raw: message('to expunge')}]})
    await dovecot.loadMessages(users.rename, {Old: [{raw: message('in a renamed folder')}]})
    await dovecot.loadMessages(users.renamed, {INBOX: [{raw: message('moved twice')}], Old: [], 'Old/Sub': []})
    await dovecot.loadMessages(users.rmfolder, {INBOX: [{raw: message('stays')}], Gone: [{raw: message('in a deleted folder')}]})
    await dovecot.loadMessages(users.emptied, {Bulk: [{raw: message('bulk one')}, {raw: message('bulk two')}, {raw: message('bulk three')}]})
    await dovecot.loadMessages(users.restart, {INBOX: [{raw: message('before the restart')}]})
    await configureAppServerByCli(env, home, dovecot, dovecot.directoryCommand(domain))

    daemon = startCli(['backup', 'daemon'], env)
    catalog = await openCatalog({env, migrate: false})
    // Every account's first cycle done and its push connection in force.
    await eventually('a push connection for every account', async () => {
      const result = await runCli(['backup', 'getServices', '--json'], env)
      const status = result.code === 0 ? JSON.parse(result.stdout).services.find((s: any) => s.name === 'backup-realtime') : undefined
      return status?.detail.push?.connections === NAMES.length ? status : undefined
    }, 60_000)
    await eventually('the mail already there', async () => ((await live(users.emptied)).length === 3 && (await live(users.restart)).length === 1 ? true : undefined), 30_000)
  })

  after(async () => {
    if (latencies.length > 0) process.stderr.write(`      capture latencies (polling every ${POLL_MS / 1000} s): ${latencies.join(', ')}\n`)
    await Promise.all(clients.map(client => client.logout().catch(() => client.close())))
    if (daemon) {
      daemon.kill('SIGTERM')
      const exit = await waitFor(daemon)
      assert.equal(exit.code, 0, exit.stderr)
      assert.match(exit.stderr, /pushes changes of every folder \(NOTIFY\)/)
    }

    await catalog?.close()
    rmSync(home, {recursive: true, force: true})
  })

  /** A mail client of the user's own, not the plugin's code. */
  async function clientOf(user: string): Promise<ImapFlow> {
    const client = await userClient(dovecot, user, USER_PASSWORD)
    clients.push(client)
    return client
  }

  /** The account's items as the catalog has them now (current revision), deleted ones included. */
  async function items(user: string): Promise<Live[]> {
    const rows = await catalog.db('items as i')
    .join('accounts as a', 'a.id', 'i.account_id')
    .join('item_revisions as r', 'r.item_id', 'i.id')
    .whereNull('r.valid_to')
    .where('a.name', user)
    .select('i.remote_id', 'r.folder_remote_id', 'r.flags', 'r.blob_digest', 'r.metadata', 'r.deleted')
    const paths = new Map((await folders(user)).map(folder => [folder.id, folder.path]))
    return rows.map(row => ({
      id: row.remote_id,
      path: paths.get(row.folder_remote_id) ?? '?',
      deleted: Boolean(row.deleted),
      flags: JSON.parse(row.flags),
      digest: row.blob_digest,
      subject: String(JSON.parse(row.metadata).subject ?? ''),
    }))
  }

  async function live(user: string): Promise<Live[]> {
    return (await items(user)).filter(item => !item.deleted)
  }

  async function folders(user: string): Promise<Array<{deleted: boolean; id: string; path: string}>> {
    const rows = await catalog.db('folders as f')
    .join('accounts as a', 'a.id', 'f.account_id')
    .join('folder_revisions as r', 'r.folder_id', 'f.id')
    .whereNull('r.valid_to')
    .where('a.name', user)
    .select('f.remote_id', 'r.path', 'r.deleted')
    return rows.map(row => ({id: row.remote_id, path: row.path, deleted: Boolean(row.deleted)}))
  }

  /** Runs the change, then times until the catalog shows it; fails past the deadline, printing the latency. */
  async function capture(what: string, change: () => Promise<unknown>, shows: () => Promise<boolean>, deadlineMs = PUSH_DEADLINE_MS): Promise<number> {
    await change()
    const started = Date.now()
    while (!await shows()) {
      if (Date.now() - started > 2 * deadlineMs) assert.fail(`${what}: not captured after ${Date.now() - started} ms`)
      await new Promise(resolve => {
        setTimeout(resolve, 20)
      })
    }

    const ms = Date.now() - started
    latencies.push(`${what} ${ms} ms`)
    assert.ok(ms <= deadlineMs, `${what}: captured after ${ms} ms, over ${deadlineMs} ms`)
    return ms
  }

  async function inMailbox<T>(client: ImapFlow, mailbox: string, work: () => Promise<T>): Promise<T> {
    const lock = await client.getMailboxLock(mailbox)
    try {
      return await work()
    } finally {
      lock.release()
    }
  }

  it('append', async () => {
    const client = await clientOf(users.append)
    await capture('append', () => client.append('INBOX', message('pushed append')), async () => (await live(users.append)).some(item => item.subject === 'pushed append' && item.digest !== null))
  })

  it('flags', async () => {
    const client = await clientOf(users.flags)
    const flag = () => inMailbox(client, 'INBOX', () => client.messageFlagsAdd('1:*', [String.raw`\Flagged`, String.raw`\Seen`]))
    await capture('flags', flag, async () => (await live(users.flags)).some(item => flagged(item)))
  })

  it('keyword', async () => {
    const client = await clientOf(users.keyword)
    await capture('keyword', () => inMailbox(client, 'INBOX', () => client.messageFlagsAdd('1:*', ['$label1'])), async () => (await live(users.keyword)).some(item => tagged(item)))
  })

  it('COPY: a second item with the same content', async () => {
    const client = await clientOf(users.copy)
    await capture('COPY', () => inMailbox(client, 'INBOX', () => client.messageCopy('1:*', 'Archive')), async () => (await live(users.copy)).length === 2)
    const copies = await live(users.copy)
    assert.deepEqual(copies.map(item => item.path).sort(), ['/Archive', '/INBOX'])
    assert.equal(copies[0].digest, copies[1].digest)
  })

  it('MOVE: the same item, with one history', async () => {
    const [before] = await live(users.move)
    const client = await clientOf(users.move)
    await capture('MOVE', () => inMailbox(client, 'INBOX', () => client.messageMove('1:*', 'Archive')), async () => (await live(users.move)).some(item => item.path === '/Archive'))
    const after = await items(users.move)
    assert.equal(after.length, 1, JSON.stringify(after))
    assert.equal(after[0].id, before.id)
    assert.equal(after[0].deleted, false)
    const history = await runCli(['backup', 'getItem', users.move, before.id, 'date', 'all', '--json'], env)
    assert.equal(history.code, 0, history.stderr)
    const states = JSON.parse(history.stdout).states as Array<{folderPath: string}>
    assert.deepEqual(states.map(state => state.folderPath), ['/INBOX', '/Archive'])
  })

  it('expunge', async () => {
    const client = await clientOf(users.expunge)
    const target = (await live(users.expunge)).find(item => item.subject === 'to expunge')!
    await capture('expunge', () => inMailbox(client, 'INBOX', async () => {
      const uids = await client.search({subject: 'to expunge'}, {uid: true})
      assert.ok(uids && uids.length === 1)
      await client.messageDelete(uids.join(','), {uid: true})
    }), async () => (await items(users.expunge)).some(item => item.id === target.id && item.deleted))
    assert.deepEqual((await live(users.expunge)).map(item => item.subject), ['to keep'])
  })

  it('folder create', async () => {
    const client = await clientOf(users.create)
    await capture('folder create', () => client.mailboxCreate('Projects'), async () => (await folders(users.create)).some(folder => folder.path === '/Projects' && !folder.deleted))
  })

  it('folder rename: the same folder, its message with it', async () => {
    const before = (await folders(users.rename)).find(folder => folder.path === '/Old')!
    const client = await clientOf(users.rename)
    await capture('folder rename', () => client.mailboxRename('Old', 'New'), async () => (await folders(users.rename)).some(folder => folder.path === '/New'))
    const renamed = (await folders(users.rename)).find(folder => folder.path === '/New')!
    assert.equal(renamed.id, before.id)
    assert.deepEqual((await live(users.rename)).map(item => item.path), ['/New'])
  })

  it('a message moved into a subfolder renamed with its parent (Dovecot pushes nothing: the account is polled closely after a rename)', async () => {
    const client = await clientOf(users.renamed)
    await capture('move, then rename of its parent', async () => {
      await inMailbox(client, 'INBOX', () => client.messageMove('1:*', 'Old'))
      await client.mailboxRename('Old', 'New')
    }, async () => (await live(users.renamed)).some(item => item.path === '/New'))
    await capture('moved back and on into the renamed child', async () => {
      await inMailbox(client, 'New', () => client.messageMove('1:*', 'INBOX'))
      await inMailbox(client, 'INBOX', () => client.messageMove('1:*', 'New/Sub'))
    }, async () => (await live(users.renamed)).some(item => item.path === '/New/Sub'))
  })

  it('folder delete: the folder and its message deleted', async () => {
    const client = await clientOf(users.rmfolder)
    await capture('folder delete', () => client.mailboxDelete('Gone'), async () => (await folders(users.rmfolder)).some(folder => folder.path === '/Gone' && folder.deleted))
    assert.deepEqual((await live(users.rmfolder)).map(item => item.subject), ['stays'])
  })

  it('deleting everything in a folder', async () => {
    const client = await clientOf(users.emptied)
    await capture('folder emptied', () => inMailbox(client, 'Bulk', () => client.messageDelete('1:*', {uid: true})), async () => (await live(users.emptied)).length === 0)
    const all = await items(users.emptied)
    assert.equal(all.length, 3)
    assert.ok(all.every(item => item.deleted && item.path === '/Bulk'))
  })

  it('a server restart: what was delivered meanwhile and what changes afterwards, with no gap', async function () {
    this.timeout(90_000)
    const user = users.restart
    await dovecot.restart(async () => {
      // A local delivery while the server is down: a file in the Maildir, there when it comes back.
      writeFileSync(path.join(dovecot.maildirOf(user), 'cur', `${Math.floor(Date.now() / 1000)}.Mpushdown.carbonio-test:2,`), message('while down'))
      // Down until the daemon has found it down (its push connections reconnect about a second after they are cut).
      await eventually('the daemon finding the server down', async () => (/retrying in/.test(outputOf(daemon!).stderr) ? true : undefined), 20_000)
    })
    const client = await clientOf(user)
    // The pushes reconnect with backoff (about 1 s, then 2 s...) and catch up; a change right after is then pushed.
    await capture('after a restart', () => client.append('INBOX', message('after the restart')), async () => (await live(user)).length === 3, 20_000)
    assert.deepEqual((await live(user)).map(item => item.subject).sort(), ['after the restart', 'before the restart', 'while down'])
    const log = outputOf(daemon!).stderr
    assert.match(log, /retrying in/)
    assert.match(log, /answers again: catching up/)
    await eventually('the pushes back', async () => {
      const result = await runCli(['backup', 'getServices', '--json'], env)
      const status = JSON.parse(result.stdout).services.find((s: any) => s.name === 'backup-realtime')
      return status.detail.push.connections === NAMES.length ? true : undefined
    }, 40_000)
    await capture('flags after a restart', () => inMailbox(client, 'INBOX', () => client.messageFlagsAdd('1:*', [String.raw`\Answered`])), async () => (await live(user)).every(item => answered(item)))
  })
})
