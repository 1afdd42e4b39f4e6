import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'
import {
  existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Catalog} from '../../src/engine/catalog/catalog.js'
import type {CoherencyReport} from '../../src/engine/coherency/coherency-check.js'

import {BlobStore} from '../../src/engine/blobstore/blob-store.js'
import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {setAttribute} from '../../src/engine/config/config-store.js'
import {userClient} from '../helpers/imap-cli-bed.js'
import {armOnUuid, armWhen, killSwitch} from '../helpers/kill-switch.js'
import {elapsedLog} from '../helpers/killed-runs.js'
import {
  copiesPerFolder, inBox, keyOf, type LiveMessage, serverState,
} from '../helpers/mailbox-state.js'
import {randomMail} from '../helpers/random-mail.js'
import {
  outputOf, runCli, startCli, UUID, waitFor,
} from '../helpers/run-cli.js'
import {
  getTestDovecot, type TestDovecot, type TestMessage, uniqueDomain,
} from '../setup/dovecot-server.js'

const GLOBAL = {level: 'global' as const, target: ''}
const PASSWORD = 'crash-pw-4e1'
// Seeds the corpus, the changes and the kill delays; another one (SMARTSCAN_CRASH_SEED) tries other moments.
const SEED = Number(process.env.SMARTSCAN_CRASH_SEED ?? 20_261_127)
interface Kill {
  anchor: 'commit' | 'line' | 'uuid'
  /** The kill's delay after its anchor, in ms: seeded, between these two. */
  delay: [number, number]
  /** 'commit': whose revisions, and how many, the catalog must hold. */
  account?: string
  revisions?: number
}

async function withCatalog<T>(env: NodeJS.ProcessEnv, work: (catalog: Catalog) => Promise<T>): Promise<T> {
  const catalog = await openCatalog({env})
  try {
    return await work(catalog)
  } finally {
    await catalog.close()
  }
}

/**
 * The account's live messages in a backup (each item's open revision, not deleted), at their folder's live path.
 * No two of them may be at one place (folder, UIDVALIDITY and UID) of the server.
 */
async function liveMessages(env: NodeJS.ProcessEnv, address: string): Promise<LiveMessage[]> {
  return withCatalog(env, async ({db}) => {
    const account = await db('accounts').where({name: address}).first('id')
    assert.ok(account, `${address} is not in the backup`)
    const folders = new Map<string, string>()
    for (const row of await db('folders as f').join('folder_revisions as r', 'r.folder_id', 'f.id')
    .where('f.account_id', account.id).whereNull('r.valid_to').where('r.deleted', false).select('f.remote_id', 'r.path')) {
      folders.set(row.remote_id, row.path)
    }

    assert.equal(new Set(folders.values()).size, folders.size, `${address}: two live folders at one path`)
    const rows = await db('items as i').join('item_revisions as r', 'r.item_id', 'i.id')
    .where('i.account_id', account.id).whereNull('r.valid_to').where('r.deleted', false)
    .select('i.remote_id', 'r.folder_remote_id', 'r.flags', 'r.blob_digest', 'r.locator', 'r.metadata')
    const places = new Map<string, string>()
    const messages = rows.map(row => {
      const place = `${row.folder_remote_id} ${row.locator}`
      assert.equal(places.get(place), undefined, `${address}: items ${places.get(place)} and ${row.remote_id} are both live at ${place}`)
      places.set(place, row.remote_id)
      const metadata = JSON.parse(row.metadata)
      assert.ok(folders.has(row.folder_remote_id), `${address}: item ${row.remote_id} is live in folder ${row.folder_remote_id}, which is not`)
      return {
        folder: folders.get(row.folder_remote_id)!,
        flags: (JSON.parse(row.flags) as string[]).sort(),
        digest: row.blob_digest,
        internalDate: metadata.internalDate,
        messageId: metadata.messageId ?? null,
      }
    })
    return messages.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
  })
}

/**
 * Nothing applied twice in the history either: each item and folder has exactly one open revision, and no revision
 * repeats the state of the one before it.
 */
async function checkHistory(env: NodeJS.ProcessEnv): Promise<void> {
  await withCatalog(env, async ({db}) => {
    for (const [table, key] of [['item_revisions', 'item_id'], ['folder_revisions', 'folder_id']]) {
      const open = await db(table).whereNull('valid_to').groupBy(key).havingRaw('count(*) <> 1').select(key)
      assert.deepEqual(open, [], `${table}: several open revisions`)
      const without = await db(table.replace('_revisions', 's') as string).whereNotIn('id', db(table).whereNull('valid_to').select(key)).select('id')
      assert.deepEqual(without, [], `${table}: no open revision`)
    }

    const columns = ['item_id', 'folder_remote_id', 'flags', 'tags', 'blob_digest', 'locator', 'deleted', 'content_missing', 'metadata'] as const
    const revisions = await db('item_revisions').orderBy(['item_id', 'id']).select('id', ...columns)
    for (let i = 1; i < revisions.length; i++) {
      const [before, after] = [revisions[i - 1], revisions[i]]
      if (before.item_id !== after.item_id) continue
      assert.ok(columns.some(c => before[c] !== after[c]), `revision ${after.id} repeats revision ${before.id}: ${JSON.stringify(after)}`)
    }
  })
}

/** Every blob a revision names is stored, whole and hashing to its name; items/ holds nothing else but .tmp-* files. */
async function checkBlobs(env: NodeJS.ProcessEnv): Promise<void> {
  const {CARBONIO_BACKUP_HOME: home} = env
  const blobs = new BlobStore(home!)
  await withCatalog(env, async ({db}) => {
    const named = await db('item_revisions as r').leftJoin('blobs as b', 'b.digest', 'r.blob_digest')
    .whereNotNull('r.blob_digest').distinct('r.blob_digest as digest', 'b.stored')
    for (const {digest, stored} of named) {
      assert.equal(Boolean(stored), true, `blob ${digest} is named by a revision but not stored`)
      await blobs.get(digest)
    }

    const contentless = await db('item_revisions').whereNull('blob_digest').where('deleted', false).count({n: '*'})
    assert.equal(Number(contentless[0].n), 0)
  })
  assert.deepEqual(strayFiles(home!).other, [])
}

/**
 * What items/ holds besides the blobs at their place: temporary files (.tmp-*, which blob writes keep in items/.tmp/),
 * and anything else; and how many blobs.
 */
function strayFiles(home: string): {blobs: number; other: string[]; temporary: string[]} {
  const items = path.join(home, 'items')
  const found = {blobs: 0, other: [] as string[], temporary: [] as string[]}
  if (!existsSync(items)) return found
  for (const entry of readdirSync(items, {recursive: true, withFileTypes: true})) {
    if (entry.isDirectory()) continue
    const relative = path.relative(items, path.join(entry.parentPath, entry.name))
    if (entry.name.startsWith('.tmp-')) found.temporary.push(relative)
    else if (!/^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(relative) || relative.slice(0, 2) !== entry.name.slice(0, 2)) found.other.push(relative)
    else found.blobs++
  }

  return found
}

/** The pid in the name of a temporary file of items/.tmp/ (.tmp-<host>-<pid>-<random>-<digest>). */
function writerPid(relative: string): number {
  const pid = /^\.tmp\/\.tmp-.+-(\d+)-[0-9a-f]{8}-[0-9a-f]{64}$/.exec(relative)?.[1]
  assert.ok(pid, `${relative} is not a temporary file of items/.tmp/`)
  return Number(pid)
}

/**
 * kill -9 of `backup doSmartScan start` at random moments, again and again, with the mailboxes changed by a mail client
 * between some of the kills; then the backup must be exactly what one uninterrupted scan of the final server makes:
 * nothing lost, nothing applied twice, every named blob whole, no operation left running.
 */
describe('SmartScan crash safety (kill -9 of doSmartScan against Dovecot)', function () {
  this.timeout(240_000)
  let dovecot: TestDovecot
  let root: string
  let domain: string
  const clients: ImapFlow[] = []
  /** A reader of the killed backup's catalog while the scans write (WAL: a reader never blocks the writer). */
  let watcher: Catalog | undefined

  before(async () => {
    dovecot = await getTestDovecot()
    domain = uniqueDomain()
    root = mkdtempSync(path.join(tmpdir(), 'cb-smartscan-crash-'))
  })

  after(async () => {
    await watcher?.close()
    await Promise.all(clients.splice(0).map(client => client.logout().catch(() => client.close())))
    rmSync(root, {force: true, recursive: true})
  })

  const {
    int, mail, message, pick, random,
  } = randomMail(SEED, 'crash.test')

  async function user(name: string): Promise<string> {
    const address = `${name}@${domain}`
    await dovecot.addUser(address, PASSWORD)
    return address
  }

  async function client(address: string): Promise<ImapFlow> {
    const c = await userClient(dovecot, address, PASSWORD)
    clients.push(c)
    return c
  }

  /** A backup home pointed at the test Dovecot, listing this test's domain only. */
  async function home(name: string): Promise<NodeJS.ProcessEnv> {
    const env = {CARBONIO_BACKUP_HOME: path.join(root, name), CARBONIO_BACKUP_SERVER: 'mail1'}
    const passwordFile = path.join(root, `${name}-imap-password`)
    writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
    const catalog = await openCatalog({env})
    try {
      await setAttribute(catalog, GLOBAL, 'backupAppServerUrl', dovecot.url)
      await setAttribute(catalog, GLOBAL, 'backupAppServerUser', dovecot.masterUser)
      await setAttribute(catalog, GLOBAL, 'backupAppServerPasswordFile', passwordFile)
      await setAttribute(catalog, GLOBAL, 'backupAccountsCommand', dovecot.directoryCommand(domain))
    } finally {
      await catalog.close()
    }

    return env
  }

  /** `count` new messages APPENDed to a mailbox. */
  async function append(c: ImapFlow, box: string, prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const {flags, internalDate, raw} = message(mail(`${prefix}-${i}`, int(500, 8000)))
      await c.append(box, raw as Buffer, flags, internalDate)
    }
  }

  it('ends, after repeated kill -9 and changes between them, in the state of one uninterrupted scan', async () => {
    const log = elapsedLog()
    // Three accounts, four folders each; ana has almost two batches (500 transactions each) of small messages, so that
    // a kill right after her first batch commits finds the second one in flight. Some bodies are in several accounts
    // (the blob store keeps them once), and one mailbox really holds the same message twice.
    const shared = Array.from({length: 30}, (_, i) => mail(`newsletter-${i}`, int(2000, 20_000)))
    const accounts = [await user('ana'), await user('ben'), await user('cleo')]
    const sizes = [[700, 100, 80, 40], [150, 50, 40, 30], [80, 30, 30, 20]]
    for (const [a, address] of accounts.entries()) {
      const folders: Record<string, TestMessage[]> = {}
      for (const [f, folder] of ['INBOX', 'Archive/2025', 'Lists/dev', 'Sent'].entries()) {
        folders[folder] = Array.from({length: sizes[a][f]}, (_, i) => message(mail(`${address.split('@')[0]}-${f}-${i}`, a === 0 ? int(400, 3000) : int(500, 8000))))
      }

      for (const raw of shared) if (random() < 0.7) folders[pick(['INBOX', 'Lists/dev'])].push(message(raw))
      if (a === 1) folders.INBOX.push(message(shared[0]), message(shared[0]))
      await dovecot.loadMessages(address, folders)
    }

    const [ana, ben, cleo] = await Promise.all(accounts.map(address => client(address)))
    // Keywords need IMAP.
    await inBox(ana, 'INBOX', () => ana.messageFlagsAdd('1:20', ['$Work']))
    await inBox(ben, 'Lists/dev', () => ben.messageFlagsAdd('1:10', ['$Work']))
    log(`seed ${SEED}: loaded ${accounts.length} accounts`)

    const crashed = await home('crashed')
    const crashedHome = crashed.CARBONIO_BACKUP_HOME as string
    // To kill a scan right after a commit.
    watcher = await openCatalog({env: crashed, migrate: false})
    const {db: read} = watcher
    const lastRevision = async () => Number((await read('item_revisions').max({id: 'id'}))[0].id ?? 0)
    const revisionsSince = async (id: number, account?: string) => {
      const query = read('item_revisions as r').join('items as i', 'i.id', 'r.item_id').join('accounts as a', 'a.id', 'i.account_id').where('r.id', '>', id)
      if (account) query.where('a.name', account)
      return Number((await query.count({n: '*'}))[0].n)
    }

    /** The operations of the killed runs that had printed their UUID, with the moment of the kill. */
    const killed: Array<{at: number; uuid: string}> = []
    let kills = 0
    let runs = 0
    /** The pid of each run, in order. */
    const pids: number[] = []
    /** The blobs in the store when the latest run started. */
    let blobsBefore = 0

    const scan = () => {
      blobsBefore = strayFiles(crashedHome).blobs
      const child = startCli(['backup', 'doSmartScan', 'start'], crashed)
      pids.push(child.pid!)
      return child
    }

    /**
     * After a run that completed: if it wrote a blob, it swept items/.tmp/ at its first write, so no temporary file of
     * an earlier (killed, so dead) run is left; none of its own either (each was renamed into place).
     */
    function sweptBy(pid: number): void {
      const {blobs, temporary} = strayFiles(crashedHome)
      if (blobs === blobsBefore) return
      assert.deepEqual(temporary.filter(file => pids.indexOf(writerPid(file)) <= pids.indexOf(pid)), [], `left by run ${pid} or those before it, after it wrote blobs`)
    }

    /**
     * One doSmartScan, SIGKILLed `delay` ms after its anchor (when it gets there; else it completes): 'uuid', its
     * operation's UUID on stdout (the operation exists); 'line', the first account's line on stderr (that account is
     * done, the others are fetching or committing); 'commit', the catalog holding at least `revisions` item revisions
     * of this run (of `account`): a batch was just committed, the next one is being fetched, stored or committed.
     */
    async function scanKilled({account, anchor, delay, revisions = 1}: Omit<Kill, 'delay'> & {delay: number}): Promise<void> {
      const before = await lastRevision()
      runs++
      const child = scan()
      const exited = waitFor(child, 120_000)
      const kill = killSwitch(child, delay)
      if (anchor === 'uuid') armOnUuid(child, kill)
      child.stderr!.on('data', () => anchor === 'line' && outputOf(child).stderr.includes(`@${domain}: `) && kill.arm())
      // Every 10 ms: a batch commits in tens of milliseconds, the bodies of the next one travel for longer.
      if (anchor === 'commit') await armWhen(child, exited, async () => await revisionsSince(before, account) >= revisions, kill)
      const result = await exited
      kill.disarm()
      if (result.signal !== 'SIGKILL') sweptBy(child.pid!)
      const uuid = result.stdout.split('\n')[0]
      const what = `${delay} ms after the ${anchor}${account ? ` of ${account.split('@')[0]}` : ''}`
      const counts = `${await revisionsSince(before)} revisions committed, ${strayFiles(crashedHome).temporary.length} .tmp-* files`
      if (result.signal === 'SIGKILL') {
        kills++
        if (UUID.test(uuid)) killed.push({at: kill.killedAt, uuid})
        const done = result.stderr.split('\n').filter(line => line.includes(`@${domain}: `)).length
        log(`killed ${what}: ${done} account(s) done, ${counts}`)
      } else {
        assert.equal(result.code, 0, result.stderr)
        log(`completed before its kill ${what}: ${result.stdout.trim().split('\n').at(-1)}; ${counts}`)
      }
    }

    const [anaAddress] = accounts
    /** What a mail client does between two scans (imapflow as the user, not the plugin's code). */
    const changes = {
      async flagsExpungeNew() {
        await inBox(ana, 'INBOX', async () => {
          await ana.messageFlagsAdd('1:40', [String.raw`\Seen`])
          await ana.messageFlagsRemove('41:70', [String.raw`\Seen`, '$Work'])
        })
        await inBox(ben, 'Lists/dev', () => ben.messageFlagsAdd('5:15', [String.raw`\Flagged`, '$Later']))
        await inBox(ben, 'INBOX', () => ben.messageDelete('1:12'))
        await append(ana, 'Lists/dev', 'ana-new', 120)
        return 'flags set and cleared (system flags and keywords), an expunge of 12, 120 new messages'
      },
      async moves() {
        // More than a batch (500) of moved messages: the first batch of them commits before the rest and before
        // the removals of the cycle's last batch.
        await inBox(ana, 'INBOX', () => ana.messageMove('1:*', 'Archive/2025'))
        const moved = await inBox(ana, 'Lists/dev', () => ana.messageMove('1:60', 'Archive/2025'))
        const uids = [...(moved ? moved.uidMap?.values() ?? [] : [])].slice(0, 5)
        assert.equal(uids.length, 5)
        await inBox(ana, 'Archive/2025', () => ana.messageFlagsAdd(uids.join(','), [String.raw`\Answered`], {uid: true}))
        await inBox(ben, 'Lists/dev', () => ben.messageMove('20:24', 'Sent'))
        // And enough new mail after them that the cycle is still fetching when that first batch commits.
        await append(ana, 'Lists/dev', 'ana-more', 150)
        await cleo.mailboxCreate('Projects')
        await append(cleo, 'Projects', 'cleo-project', 4)
        await cleo.append('Sent', shared[1], [String.raw`\Seen`], new Date(Date.UTC(2026, 0, 2)))
        return 'a move of every message of a folder and 60 of another (then a flag change on 5 of them), 5 moved elsewhere, a new folder, 155 new messages'
      },
      async mixed() {
        await append(ana, 'INBOX', 'ana-late', 40)
        await inBox(cleo, 'Archive/2025', () => cleo.messageDelete('1:3'))
        await inBox(ben, 'Sent', () => ben.messageFlagsAdd('1:*', ['$Done']))
        return 'new messages, an expunge and a flag change in one go'
      },
    }

    // Seeded kill moments. The first capture: while the bodies travel; right after a first account is done (the
    // others fetch or commit); right after ana's first batch commits (her second is in flight); then it finishes once.
    // Then incremental scans of what a client changed: right after ana's flag changes commit (her new bodies travel),
    // after the first batch of her moves commits (the rest and the cycle's removals not yet), and at random.
    const plan: Array<Kill | {change: keyof typeof changes} | {complete: true}> = [
      {anchor: 'uuid', delay: [100, 600]},
      {anchor: 'line', delay: [0, 100]},
      {anchor: 'commit', account: anaAddress, delay: [0, 20]},
      {complete: true},
      {change: 'flagsExpungeNew'},
      {anchor: 'commit', account: anaAddress, delay: [0, 20]},
      {anchor: 'uuid', delay: [100, 600]},
      {change: 'moves'},
      {
        anchor: 'commit', account: anaAddress, revisions: 500, delay: [0, 20],
      },
      {anchor: 'uuid', delay: [100, 1000]},
      {change: 'mixed'},
      {anchor: 'commit', delay: [0, 50]},
    ]
    for (const step of plan) {
      if ('change' in step) {
        log(`changed: ${await changes[step.change]()}`)
      } else if ('complete' in step) {
        runs++
        const child = scan()
        const result = await waitFor(child, 120_000)
        assert.equal(result.code, 0, result.stderr)
        sweptBy(child.pid!)
        log(`completed: ${result.stdout.trim().split('\n').at(-1)}; ${strayFiles(crashedHome).temporary.length} .tmp-* files`)
      } else {
        await scanKilled({...step, delay: int(...step.delay)})
      }
    }

    await watcher.close()
    watcher = undefined
    runs++
    const finalRun = scan()
    const final = await waitFor(finalRun, 120_000)
    assert.equal(final.code, 0, final.stderr)
    sweptBy(finalRun.pid!)
    const leftovers = strayFiles(crashedHome).temporary
    // All in items/.tmp/, of killed runs since the last one that wrote blobs (sweptBy): they do not pile up.
    assert.deepEqual(leftovers.filter(file => !pids.includes(writerPid(file))), [])
    log(`final run: ${final.stdout.trim().split('\n').at(-1)}; ${leftovers.length} .tmp-* files left`)

    const reference = await home('reference')
    const straight = await runCli(['backup', 'doSmartScan', 'start'], reference, 120_000)
    assert.equal(straight.code, 0, straight.stderr)
    log(`reference run: ${straight.stdout.trim().split('\n').at(-1)}`)

    assert.ok(kills >= 4, `only ${kills} of the runs were killed: too few to mean anything`)

    // The same live messages, per account, in the server, the killed backup and the uninterrupted one.
    for (const [a, address] of accounts.entries()) {
      const server = await serverState([ana, ben, cleo][a])
      const fromCrashed = await liveMessages(crashed, address)
      const fromReference = await liveMessages(reference, address)
      assert.deepEqual(fromReference.map(m => keyOf(m)), server.map(m => keyOf(m)), `${address}: the uninterrupted backup differs from the server`)
      assert.deepEqual(fromCrashed.map(m => keyOf(m)), server.map(m => keyOf(m)), `${address}: the backup killed ${kills} times differs from the server`)
      // Spelled out: a folder holds a message (Message-ID and content) as many times as the server has it.
      assert.deepEqual(copiesPerFolder(fromCrashed), copiesPerFolder(server))
    }

    await checkHistory(crashed)
    await checkHistory(reference)
    await checkBlobs(crashed)

    // The backup's own check agrees. Orphaned blob files are only judged once old: age every file by two hours. Then
    // the only findings may be what a kill leaves and the check is there to clean up: .tmp-* files of blob writes that
    // never finished (the next scan that writes removes them, but the last killed ones may have had no such scan
    // after them; their processes are dead, so the check moves them to quarantine with fixBackup), and blob files
    // whose batch never committed (their message gone from the server since).
    const twoHoursAgo = new Date(Date.now() - (2 * 3_600_000))
    for (const entry of readdirSync(path.join(crashedHome, 'items'), {recursive: true, withFileTypes: true})) {
      if (entry.isFile()) utimesSync(path.join(entry.parentPath, entry.name), twoHoursAgo, twoHoursAgo)
    }

    const coherency = await runCli(['backup', 'doCoherencyCheck', 'fixBackup', 'true', '--json'], crashed, 60_000)
    assert.equal(coherency.code, 0, coherency.stderr)
    const {findings, fixed}: CoherencyReport = JSON.parse(coherency.stdout).result
    const counts = Object.fromEntries(Object.entries(findings).map(([kind, list]) => [kind, list.count]).filter(([, n]) => n !== 0))
    log(`coherency check: ${JSON.stringify(counts)}`)
    assert.equal(findings.staleTemporaryFiles.count, leftovers.length)
    assert.deepEqual(Object.keys(counts).filter(kind => kind !== 'staleTemporaryFiles' && kind !== 'orphanedFiles'), [], JSON.stringify(findings))
    assert.equal(fixed!.filesQuarantined, findings.staleTemporaryFiles.count + findings.orphanedFiles.count)
    assert.deepEqual(strayFiles(crashedHome).temporary, [])

    // Every killed operation is Interrupted (exit code 4), unless the kill came after it had recorded its end (it
    // completed, the process was killed on its way out); none is left running or queued.
    const listed = await runCli(['backup', 'getAllOperations', 'all', 'true', '--json'], crashed)
    assert.equal(listed.code, 0, listed.stderr)
    const {operations}: {operations: Array<{ended: null | string; error: null | string; exitCode: null | number; outcome: string; type: string; uuid: string}>} = JSON.parse(listed.stdout)
    const scans = operations.filter(op => op.type === 'doSmartScan')
    assert.deepEqual(scans.filter(op => op.outcome !== 'Successful' && op.outcome !== 'Interrupted'), [])
    for (const {at, uuid} of killed) {
      const op = scans.find(o => o.uuid === uuid)
      assert.ok(op, `operation ${uuid} is not listed`)
      if (op.outcome === 'Interrupted') assert.equal(op.exitCode, 4)
      else assert.ok(Date.parse(op.ended!) <= at, `${uuid} was killed before its end and shows ${op.outcome}`)
    }

    const interrupted = scans.filter(op => op.outcome === 'Interrupted')
    // Reaped because the process is gone (a kill before the UUID was printed may leave one the test cannot name).
    for (const op of interrupted) assert.match(op.error!, /ended without finishing it/)
    assert.ok(interrupted.length >= 3 && interrupted.length <= kills, `${interrupted.length} operations interrupted by ${kills} kills`)
    assert.equal(scans.length - interrupted.length, scans.filter(op => op.outcome === 'Successful').length)
    assert.ok(scans.length - interrupted.length >= runs - kills)
    const monitor = await runCli(['backup', 'monitor', interrupted[0].uuid, 'follow', 'true', '--json'], crashed)
    assert.equal(monitor.code, 4, monitor.stderr)
    assert.equal(JSON.parse(monitor.stdout).outcome, 'Interrupted')
    // And the killed backup is as certain as the uninterrupted one: every account scanned in full since.
    for (const env of [crashed, reference]) {
      const uncertain = await withCatalog(env, ({db}) => db('accounts as a').leftJoin('account_state as s', 's.account_id', 'a.id')
      .where(q => q.whereNull('s.certain').orWhere('s.certain', false)).pluck('a.name'))
      assert.deepEqual(uncertain, [])
    }

    log('compared')
  })
})
