import type {ImapFlow} from 'imapflow'
import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {isDeepStrictEqual} from 'node:util'

import {undelete} from '../../src/engine/restore/undelete.js'
import {sleep} from '../../src/engine/sleep.js'
import {untilBackupHolds} from '../helpers/backup-state.js'
import {
  type ImapCliBed, imapCliBed, scanInProcess, testOperation,
} from '../helpers/imap-cli-bed.js'
import {
  inBox, keyOf, type LiveMessage, serverState,
} from '../helpers/mailbox-state.js'
import {randomMail} from '../helpers/random-mail.js'
import {
  outputOf, runCli, startCli, waitFor,
} from '../helpers/run-cli.js'

// Another list (FOLDER_TREE_SEEDS=1,2,3) tries other trees. FOLDER_TREE_REALTIME=1 captures each round with the daemon's
// realtime capture (NOTIFY) instead of a SmartScan. It waits for the capture past the 30 s safety-net poll: Dovecot 2.3
// pushes nothing for changes it takes in together with a folder created and then renamed or deleted (seeds 1-4 in a
// row: seed 4, round 1, in most runs; see CLOSE_POLL_MS in imap-realtime.ts), and what is checked here is the history,
// not how soon it is captured.
const SEEDS = (process.env.FOLDER_TREE_SEEDS ?? '1').split(',').map(Number)
const REALTIME = process.env.FOLDER_TREE_REALTIME === '1'
const CAPTURED_WITHIN_MS = 45_000
const ROUNDS = 8
const WINDOWS = 3
/** Folder names drawn at random: the same name at several depths and again after a deletion; "&" and "ä" to encode. */
const NAMES = ['Projects', 'Clients', 'Old', '2024', 'Sub', 'Käse & Co']

type Placed = LiveMessage & {folderId: number}

/**
 * A folder tree a client changes at random, with a SmartScan after each round: folders created at any depth, renamed
 * and moved (with their subfolders) to names their old ones may take again, archived (renamed, and a new folder made
 * under the old name in the same round: before ed1d097 the new one was taken for the old folder, and undeleted messages
 * went into it), leaf folders deleted with their messages,
 * messages appended, moved and expunged. The restore of the account at every round's moment must hold that moment's
 * folders and messages; then undeletes of random windows must bring each message the window deleted back into its
 * folder under the name it has now (the test follows each folder's identity through renames), or, for a folder
 * deleted since, under its name when it was deleted.
 */
describe('a folder tree changed at random, restored and undeleted against the states the server held', function () {
  this.timeout(600_000)
  let bed: ImapCliBed
  let daemon: ChildProcess | undefined

  before(async () => {
    bed = await imapCliBed()
  })

  after(async () => {
    daemon?.kill('SIGKILL')
    await bed.cleanup()
  })

  /** Until the backup's current folders and messages are the server's, with the daemon following the account. */
  async function captureByDaemon(client: ImapFlow, address: string, round: number): Promise<void> {
    // Started per account: a running daemon reads the accounts command again only every minute.
    daemon ??= startCli(['backup', 'daemon'], bed.t.env)
    const wanted = {folders: await folderList(client), messages: (await serverState(client)).map(m => keyOf(m))}
    await untilBackupHolds(bed.t.catalog, address, wanted, {
      withinMs: CAPTURED_WITHIN_MS,
      why: () => `round ${round} not captured within ${CAPTURED_WITHIN_MS / 1000} s\n${outputOf(daemon!).stderr.slice(-2000)}`,
    })
  }

  for (const seed of SEEDS) {
    it(`seed ${seed}: every moment restored, every window undeleted into the folders of now`, async () => {
      const address = await bed.user(`tree${seed}`)
      const client = await bed.client(address)
      const tree = new FolderTree()
      const changes = randomTreeChanges(client, tree, seed)
      const moments: Array<{at: number; folders: string[]; messages: Placed[]}> = []
      for (let round = 0; round < ROUNDS; round++) {
        await changes.round(round)
        tree.endRound()
        await (REALTIME ? captureByDaemon(client, address, round) : scanInProcess(bed, address))
        const messages = (await serverState(client)).map(m => ({...m, folderId: tree.idOf(m.folder)}))
        const folders = await folderList(client)
        if (!isDeepStrictEqual(folders, tree.paths())) {
          assert.deepEqual(folders, tree.paths(), `the test's own record of the folders; the server lists ${await listedWithFlags(client)}\n${changes.story()}`)
        }

        await sleep(1100)
        moments.push({at: Date.now(), folders, messages})
        await sleep(1100)
      }

      if (daemon) {
        daemon.kill('SIGTERM')
        assert.equal((await waitFor(daemon, 60_000)).code, 0)
        daemon = undefined
      }

      await bed.closeClients()
      const story = changes.story()
      for (const [round, {at, folders, messages}] of moments.entries()) {
        const destination = await bed.user(`tree${seed}r${round}`)
        const restore = await runCli(['backup', 'doRestoreOnNewAccount', address, destination, new Date(at).toISOString()], bed.t.env)
        assert.equal(restore.code, 0, restore.stdout + restore.stderr)
        const restored = await bed.client(destination)
        const where = `the restore at round ${round} (seed ${seed})\n${story}`
        assert.deepEqual((await serverState(restored)).map(m => keyOf(m)), messages.map(m => keyOf(m)), where)
        assert.deepEqual(await folderList(restored), folders, where)
        await bed.closeClients()
      }

      const {int} = randomMail(seed + 1000, 'example.test')
      const context = testOperation(bed, 'folder-tree-history')
      const account = await bed.client(address)
      for (let run = 0; run < WINDOWS; run++) {
        const from = int(-1, ROUNDS - 2)
        const to = int(from + 1, ROUNDS - 1)
        const before = await serverState(account)
        const expected = expectedAfter(before, moments, tree, {window: {from, to}, deletedAs: 'scan'})
        // The daemon may have seen a folder deleted before a folder above it was renamed, in a cycle of its own.
        const orAsDeleted = REALTIME ? expectedAfter(before, moments, tree, {window: {from, to}, deletedAs: 'client'}) : expected
        await undelete(context, {account: address, window: {from: from < 0 ? null : moments[from].at, to: moments[to].at}})
        const after = (await serverState(account)).map(m => keyOf(m))
        if (!isDeepStrictEqual(after, orAsDeleted)) assert.deepEqual(after, expected, `the undelete of ${from}..${to} (run ${run}, seed ${seed})\n${story}`)
        await scanInProcess(bed, address)
        // A folder deleted since is made again by the undelete: a new folder.
        for (const path of await folderList(account)) tree.adopt(path)
        await sleep(1100)
      }

      await bed.closeClients()
    })
  }
})

/**
 * CREATE, refusing the ALREADYEXISTS that imapflow takes for success ({created: false}): the test's record would hold a
 * folder the server did not make. Twice in about 25 realtime runs the server's list lacked a folder the record held
 * (/Projects, seed 1), which this and the list with flags in the message are there to explain next time.
 */
async function createFolder(c: ImapFlow, path: string): Promise<void> {
  const {created} = await c.mailboxCreate(path)
  assert.ok(created, `the server answered ALREADYEXISTS to CREATE ${path}, though the test made no such folder (the server lists ${await listedWithFlags(c)})`)
}

/** Every folder the server lists, with its flags (\\Noselect ones included), for a failure's message. */
async function listedWithFlags(c: ImapFlow): Promise<string> {
  return (await c.list()).map(box => `${box.path} (${[...box.flags].join(' ')})`).join(', ')
}

/** The selectable folders of the account, as "/path". */
async function folderList(c: ImapFlow): Promise<string[]> {
  return (await c.list()).filter(box => !box.flags.has(String.raw`\Noselect`)).map(box => `/${box.path}`).sort()
}

/** Which folder each path names: a rename moves a folder and its subfolders, keeping their identity. */
class FolderTree {
  private readonly ids = new Map<string, number>([['/INBOX', 0]])
  private next = 1
  /** The folders when the round began: what the backup last saw. */
  private atRoundStart = new Map(this.ids)
  /** Folders deleted this round that the backup saw, with their path then and the folders above them (path, id). */
  private deletedThisRound: Array<{above: Array<[string, number]>; id: number; path: string}> = []
  /** The name each deleted folder had when deleted, as the backup saw it (endRound). */
  private readonly deletedPaths = new Map<number, string>()

  adopt(path: string): void {
    if (!this.ids.has(path)) this.ids.set(path, this.next++)
  }

  create(path: string): void {
    this.ids.set(path, this.next++)
  }

  delete(path: string): void {
    const id = this.ids.get(path)!
    this.ids.delete(path)
    const seen = [...this.atRoundStart].find(([, other]) => other === id)?.[0]
    if (seen === undefined) return
    const above = [...this.atRoundStart].filter(([other]) => seen.startsWith(`${other}/`))
    this.deletedThisRound.push({above, id, path: seen})
  }

  /**
   * The scan after a round sees its changes at once and records the renames and moves first, the folders gone last:
   * a folder deleted in a round in which a folder above it was renamed was, as far as the backup can tell, deleted
   * under the new name (below the nearest folder above it that is still there), whichever came first.
   */
  endRound(): void {
    for (const {above, id, path} of this.deletedThisRound) {
      const nearest = above.filter(([, other]) => this.pathOf(other) !== undefined).sort(([a], [b]) => b.length - a.length)[0]
      this.deletedPaths.set(id, nearest ? `${this.pathOf(nearest[1])}${path.slice(nearest[0].length)}` : path)
    }

    this.deletedThisRound = []
    this.atRoundStart = new Map(this.ids)
  }

  /** The name a deleted folder had when deleted, as the backup saw it; undefined for one never deleted. */
  deletedPathOf(id: number): string | undefined {
    return this.deletedPaths.get(id)
  }

  idOf(path: string): number {
    return this.ids.get(path)!
  }

  pathOf(id: number): string | undefined {
    return [...this.ids].find(([, other]) => other === id)?.[0]
  }

  paths(): string[] {
    return [...this.ids.keys()].sort()
  }

  rename(from: string, to: string): void {
    const moved = [...this.ids].filter(([path]) => path === from || path.startsWith(`${from}/`))
    for (const [path] of moved) this.ids.delete(path)
    for (const [path, id] of moved) this.ids.set(`${to}${path.slice(from.length)}`, id)
  }
}

/** A seeded client making a round of 4 to 10 random changes at a time; story() tells them all. */
function randomTreeChanges(client: ImapFlow, tree: FolderTree, seed: number): {round: (round: number) => Promise<void>; story: () => string} {
  const {int, mail, pick, random} = randomMail(seed, 'example.test')
  const told: string[] = []
  let appended = 0
  const change = async (round: number) => {
    const folders = tree.paths().map(path => path.slice(1))
    const what = random()
    // Dovecot ends a session whose selected mailbox (or one above it) is renamed or deleted.
    if (what >= 0.2 && what < 0.45 && typeof client.mailbox === 'object') await client.mailboxClose()
    const tell = (line: string) => told.push(`${round}: ${line}`)
    if (what < 0.2) {
      const name = `${random() < 0.5 ? '' : `${pick(folders)}/`}${pick(NAMES)}`
      if (folders.includes(name) || name.split('/').length > 4) return
      await createFolder(client, name)
      tree.create(`/${name}`)
      tell(`create ${name}`)
    } else if (what < 0.37) {
      const from = pick(folders.filter(f => f !== 'INBOX'))
      if (!from) return
      const parents = folders.filter(f => f !== from && !f.startsWith(`${from}/`))
      const archive = what >= 0.3
      // Archiving: renamed beside itself, and a new folder made under its old name.
      const parent = archive ? from.slice(0, Math.max(0, from.lastIndexOf('/') + 1)) : (random() < 0.5 ? '' : `${pick(parents)}/`)
      const to = `${parent}${pick(NAMES)}`
      if (folders.includes(to) || to.split('/').length > 4) return
      await client.mailboxRename(from, to)
      tree.rename(`/${from}`, `/${to}`)
      tell(`rename ${from} -> ${to}`)
      if (!archive) return
      await createFolder(client, from)
      tree.create(`/${from}`)
      tell(`create ${from}`)
    } else if (what < 0.45) {
      const leaves = folders.filter(f => f !== 'INBOX' && !folders.some(other => other.startsWith(`${f}/`)))
      if (leaves.length === 0) return
      const gone = pick(leaves)
      await client.mailboxDelete(gone)
      tree.delete(`/${gone}`)
      tell(`delete ${gone}`)
    } else if (what < 0.75) {
      const box = pick(folders)
      const flags = random() < 0.3 ? [String.raw`\Seen`] : []
      await client.append(box, mail(`t${seed}-${appended++}`, int(300, 3000)), flags, new Date(Date.UTC(2026, 0, 1) + int(0, 1e9)))
      tell(`append to ${box}`)
    } else {
      const box = pick(folders)
      await inBox(client, box, async () => {
        const uids = await client.search({all: true}, {uid: true})
        if (!uids || uids.length === 0) return
        const uid = String(pick(uids))
        if (what < 0.9) {
          const to = pick(folders.filter(f => f !== box))
          await client.messageMove(uid, to, {uid: true})
          tell(`move ${box} -> ${to}`)
        } else {
          await client.messageDelete(uid, {uid: true})
          tell(`expunge in ${box}`)
        }
      })
    }
  }

  return {
    async round(round) {
      for (let changes = int(4, 10); changes > 0; changes--) await change(round)
    },
    story: () => told.join('\n'),
  }
}

/**
 * What the account should hold after undeleting the window: what it holds, plus every message there at a moment in
 * the window and gone at the next, in its folder under the name the folder has now (or had when deleted: as a scan
 * after the round saw it, or as the client made it), unless it is there already.
 */
function expectedAfter(now: LiveMessage[], moments: Array<{messages: Placed[]}>, tree: FolderTree, {deletedAs, window}: {
  deletedAs: 'client' | 'scan'
  window: {from: number; to: number}
}): string[] {
  const identity = (m: LiveMessage) => `${m.digest} ${m.internalDate}`
  const expected = now.map(m => keyOf(m))
  const present = new Set(now.map(m => `${m.folder} ${identity(m)}`))
  for (let round = Math.max(window.from + 1, 1); round <= window.to; round++) {
    const after = new Set(moments[round].messages.map(m => identity(m)))
    for (const m of moments[round - 1].messages) {
      if (after.has(identity(m))) continue
      const folder = tree.pathOf(m.folderId) ?? (deletedAs === 'scan' ? tree.deletedPathOf(m.folderId) : undefined) ?? m.folder
      if (present.has(`${folder} ${identity(m)}`)) continue
      present.add(`${folder} ${identity(m)}`)
      expected.push(keyOf({...m, folder}))
    }
  }

  return expected.sort()
}
