import assert from 'node:assert/strict'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'
import {abandonedTemporary, TEMPORARY_DIR, writerIdentity} from '../../../src/engine/blobstore/blob-temporary.js'
import {blobStoreUsage} from '../../../src/engine/history/blob-store-usage.js'

const HOUR_MS = 3_600_000
const DIGEST = sha256(Buffer.from('a blob someone was writing'))

/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const {pid} = spawnSync(process.execPath, ['-e', ''])
  assert.ok(pid)
  return pid
}

/** A temporary file's name as blob-temporary.ts makes it, for any writer. */
function temporaryName(writer: string, pid: number, random = '0badcafe'): string {
  return `.tmp-${writer}-${pid}-${random}-${DIGEST}`
}

function backdate(file: string, ms: number): void {
  const when = new Date(Date.now() - ms)
  utimesSync(file, when, when)
}

describe('blob store temporary files (items/.tmp/)', () => {
  let root: string
  let live: ChildProcess

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'cb-blob-temporary-'))
    // Another live process of this host: a write of it may be under way.
    live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], {stdio: 'ignore'})
  })

  after(() => {
    live.kill('SIGKILL')
    rmSync(root, {force: true, recursive: true})
  })

  it('writes through items/.tmp/ and leaves nothing there once the blob is under its name', async () => {
    const home = path.join(root, 'plain')
    const store = new BlobStore(home)
    const content = Buffer.from('hello temporary')
    const stored = await store.put(content)
    assert.equal(stored.written, true)
    assert.deepEqual(readdirSync(path.join(home, 'items', TEMPORARY_DIR)), [])
    assert.ok((await store.get(stored.digest)).equals(content))
    // It may have seen the put's own file (kept: this process's): nothing to remove.
    const {failed, removed} = await store.sweepTemporaries()
    assert.deepEqual({failed, removed}, {failed: 0, removed: 0})
  })

  it('at the first write, removes what dead writers of this host left and what is over a day old, and keeps what a live writer may finish', async () => {
    const home = path.join(root, 'leftovers')
    const dir = path.join(home, 'items', TEMPORARY_DIR)
    mkdirSync(dir, {recursive: true})
    const me = writerIdentity()
    const dead = deadPid()
    const files = {
      deadHere: temporaryName(me, dead, '00000001'),
      liveHere: temporaryName(me, live.pid!, '00000002'),
      thisProcess: temporaryName(me, process.pid, '00000003'),
      // The same pid on another host, or in another pid namespace of this one (a container sharing its host name),
      // may be a live writer: the pid tells nothing here.
      otherHost: temporaryName('mail2.example.com', dead, '00000004'),
      otherNamespace: temporaryName(`${me.replace(/@\d+$/, '')}@1`, dead, '00000005'),
      // A host name with dashes and digits still parses: its pid is the one before the random part.
      dashedOtherHost: temporaryName('mx-1-2', dead, '00000006'),
      oldOtherHost: temporaryName('mail2.example.com', 12_345, '00000007'),
      oldLiveHere: temporaryName(me, live.pid!, '00000008'),
      oldUnparsable: '.tmp-something-else',
      notTemporary: 'notes.txt',
    }
    for (const file of Object.values(files)) writeFileSync(path.join(dir, file), 'half a blob')
    for (const file of [files.otherHost, files.otherNamespace, files.dashedOtherHost, files.liveHere]) backdate(path.join(dir, file), 23 * HOUR_MS)
    for (const file of [files.oldOtherHost, files.oldLiveHere, files.oldUnparsable, files.notTemporary]) backdate(path.join(dir, file), 25 * HOUR_MS)
    // A leftover of an earlier version, in a 2-hex directory: the coherency check's, not the sweep's.
    const oldStyle = path.join(home, 'items', DIGEST.slice(0, 2), `.tmp-${DIGEST}-${dead}-deadbeef`)
    mkdirSync(path.dirname(oldStyle), {recursive: true})
    writeFileSync(oldStyle, 'half a blob')
    backdate(oldStyle, 25 * HOUR_MS)

    const store = new BlobStore(home)
    const content = Buffer.from('the next write')
    const stored = await store.put(content)
    const sweep = await store.sweepTemporaries()
    assert.deepEqual({failed: sweep.failed, removed: sweep.removed}, {failed: 0, removed: 4})
    // Plus, perhaps, the put's own temporary file: a writer thread may write it while the sweep lists.
    assert.ok(sweep.kept === 5 || sweep.kept === 6, `${sweep.kept} kept`)
    assert.deepEqual(readdirSync(dir).sort(), [
      files.liveHere, files.thisProcess, files.otherHost, files.otherNamespace, files.dashedOtherHost, files.notTemporary,
    ].sort())
    assert.ok(existsSync(oldStyle))
    assert.ok((await store.get(stored.digest)).equals(content))
    // Usage counts blobs only, wherever the temporary files are.
    assert.deepEqual(await blobStoreUsage(home), {files: 1, bytes: stored.storedSize})

    // Once per process: another store of the same path does not list the directory again.
    const later = path.join(dir, temporaryName(me, dead, '00000009'))
    writeFileSync(later, 'half a blob')
    const again = new BlobStore(home)
    await again.put(Buffer.from('and another'))
    assert.equal(await again.sweepTemporaries(), sweep)
    assert.ok(existsSync(later))
  })

  it('judges a name by its writer and its age (the rule the coherency check shares)', () => {
    const now = Date.now()
    const me = writerIdentity()
    const dead = deadPid()
    assert.match(abandonedTemporary(temporaryName(me, dead), now, now)!, new RegExp(`process ${dead} of this host, which is gone`))
    assert.equal(abandonedTemporary(temporaryName(me, process.pid), now, now), undefined)
    assert.equal(abandonedTemporary(temporaryName(me, live.pid!), now - (23 * HOUR_MS), now), undefined)
    assert.equal(abandonedTemporary(temporaryName('elsewhere', dead), now - (23 * HOUR_MS), now), undefined)
    assert.match(abandonedTemporary(temporaryName('elsewhere', dead), now - (25 * HOUR_MS), now)!, /over a day ago/)
    assert.match(abandonedTemporary(temporaryName(me, process.pid), now - (25 * HOUR_MS), now)!, /over a day ago/)
  })
})
