import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'
import {blobWriters} from '../../../src/engine/blobstore/blob-writer-pool.js'

describe('blob store: content lent to a writer thread', () => {
  let root: string
  let store: BlobStore

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cb-blob-lend-'))
    store = new BlobStore(root, 6)
    // Lending only happens once a thread takes the write (before that a blob is written on this thread).
    await blobWriters().ready()
  })

  after(() => rmSync(root, {recursive: true, force: true}))

  it('moves a buffer that owns its memory to the thread and hands the same bytes back', async () => {
    const bytes = randomBytes(50_000)
    const copy = Buffer.from(bytes)
    const digest = sha256(bytes)
    const stored = await store.put(bytes, digest, {lend: true})
    assert.equal(bytes.length, 0, 'the lent buffer moved (it was not copied)')
    assert.ok(stored.written)
    assert.equal(stored.size, copy.length)
    assert.deepEqual(stored.content, copy)
    assert.deepEqual(await store.get(digest), copy)
  })

  it('copies a slice of a shared buffer instead of moving its neighbours', async () => {
    const shared = randomBytes(10_000)
    const slice = shared.subarray(1000, 9000)
    const digest = sha256(slice)
    const stored = await store.put(slice, digest, {lend: true})
    assert.equal(shared.length, 10_000, 'the shared buffer is untouched')
    assert.equal(stored.content, slice)
    assert.deepEqual(await store.get(digest), Buffer.from(slice))
  })

  it('without lend the caller keeps its buffer', async () => {
    const bytes = randomBytes(20_000)
    const stored = await store.put(bytes, sha256(bytes))
    assert.equal(bytes.length, 20_000)
    assert.equal(stored.content, bytes)
  })

  it('refuses an emptied buffer passed again: never an empty blob under a digest', async () => {
    const bytes = randomBytes(30_000)
    const digest = sha256(bytes)
    await store.put(bytes, digest, {lend: true})
    await assert.rejects(store.put(bytes, sha256(Buffer.from('other')), {lend: true}), /no bytes to store/)
  })
})
