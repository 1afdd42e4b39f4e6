import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {
  mkdtempSync, readdirSync, readFileSync, rmSync, statSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'

import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'

/**
 * The content in pieces of `size`, each after a turn of the event loop, as IMAP pieces arrive.
 * @yields each piece
 */
async function * inPieces(content: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < content.length; at += size) {
    await new Promise(resolve => {
      setImmediate(resolve)
    })
    yield content.subarray(at, at + size)
  }
}

/**
 * A source that fails after its first piece, as a connection lost mid-message.
 * @yields one piece
 */
async function * broken(): AsyncGenerator<Buffer> {
  yield randomBytes(10_000)
  throw new Error('connection lost')
}

describe('blob store: a content stored as it arrives (putStream)', () => {
  let root: string
  let store: BlobStore

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'cb-blob-stream-'))
    store = new BlobStore(root, 6)
  })

  afterEach(() => rmSync(root, {recursive: true, force: true}))

  const leftovers = () => readdirSync(store.temporaryDir)

  it('publishes the blob under its digest, gzip of the exact bytes, as put() would', async () => {
    const content = Buffer.from(randomBytes(3_000_000).toString('base64').replaceAll(/.{76}/g, '$&\r\n'))
    const result = await store.putStream(inPieces(content, 1024 * 1024), {size: content.length})
    assert.deepEqual(result, {
      ok: true, digest: sha256(content), size: content.length, storedSize: statSync(store.pathOf(sha256(content))).size, written: true,
    })
    assert.ok(gunzipSync(readFileSync(store.pathOf(result.digest))).equals(content))
    assert.ok((await store.get(result.digest)).equals(content))
    assert.deepEqual(leftovers(), [])
  })

  it('keeps the blob already stored, and leaves no temporary file', async () => {
    const content = randomBytes(200_000)
    await store.put(content)
    const before = statSync(store.pathOf(sha256(content)))
    const result = await store.putStream(inPieces(content, 64 * 1024))
    assert.equal(result.ok && result.written, false)
    assert.equal(statSync(store.pathOf(sha256(content))).mtimeMs, before.mtimeMs)
    assert.deepEqual(leftovers(), [])
  })

  it('publishes nothing that is not the announced size or digest (a message expunged while it was read)', async () => {
    const content = randomBytes(300_000)
    const short = await store.putStream(inPieces(content.subarray(0, 100_000), 64 * 1024), {size: content.length})
    assert.deepEqual(short, {ok: false, digest: sha256(content.subarray(0, 100_000)), size: 100_000})
    const other = await store.putStream(inPieces(content, 64 * 1024), {digest: sha256(randomBytes(8))})
    assert.equal(other.ok, false)
    assert.equal(await store.has(sha256(content)), false)
    assert.equal(await store.has(sha256(content.subarray(0, 100_000))), false)
    assert.deepEqual(leftovers(), [])
  })

  it('fails with its source, leaving nothing behind', async () => {
    await assert.rejects(store.putStream(broken()), /connection lost/)
    assert.deepEqual(leftovers(), [])
  })

  it('stores an empty content', async () => {
    const result = await store.putStream(inPieces(Buffer.alloc(0), 10))
    assert.equal(result.ok && result.digest, sha256(Buffer.alloc(0)))
    assert.equal((await store.get(sha256(Buffer.alloc(0)))).length, 0)
  })
})
