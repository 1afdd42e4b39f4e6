import assert from 'node:assert/strict'
import {
  mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {outputChunk, readBlob} from '../../../src/engine/blobstore/blob-read.js'
import {BlobReaderPool} from '../../../src/engine/blobstore/blob-reader-pool.js'
import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'

/**
 * Stores a blob the way the blob store lays it out (gzip under the digest), without the blob writer threads: these
 * tests are about reading.
 */
function put(store: BlobStore, content: Buffer): {digest: string} {
  const digest = sha256(content)
  mkdirSync(path.dirname(store.pathOf(digest)), {recursive: true})
  writeFileSync(store.pathOf(digest), gzipSync(content))
  return {digest}
}

describe('reading a blob back', () => {
  let home: string

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'blob-read-'))
  })

  afterEach(() => rmSync(home, {force: true, recursive: true}))

  it('gives the exact content of any size, whatever the gzip trailer says about it', async () => {
    const store = new BlobStore(home)
    for (const content of [Buffer.alloc(0), Buffer.from('x'), Buffer.from('a line of text\r\n'.repeat(100_000))]) {
      const {digest} = put(store, content)
      assert.deepEqual(await store.get(digest), content)
    }

    // A large content is inflated into the one buffer its trailer announces, not in pieces concatenated at the end
    // (which held a message three times over at once); a trailer announcing more than deflate can give is not believed.
    const large = gzipSync(Buffer.from('a longer line of a large attachment\r\n'.repeat(2_000_000)))
    assert.equal(outputChunk(large), 74_000_001)
    const lying = Buffer.from(large.subarray(0, 1000))
    lying.writeUInt32LE(0xFF_FF_FF_FF, lying.length - 4)
    assert.ok(outputChunk(lying) <= (1000 * 1032) + 64)

    // A trailer whose size is wrong only makes the output come in more pieces: the content is still all there.
    const content = Buffer.from('several members '.repeat(10_000))
    const file = path.join(home, 'two-members')
    writeFileSync(file, Buffer.concat([gzipSync(content.subarray(0, 100_000)), gzipSync(content.subarray(100_000))]))
    assert.deepEqual(await readBlob(file, sha256(content)), content)
  })

  it('refuses a file whose content does not hash to its name, or that is cut short', async () => {
    const store = new BlobStore(home)
    const {digest} = put(store, Buffer.from('the real content'))
    const other = put(store, Buffer.from('some other content'))
    writeFileSync(store.pathOf(digest), readFileSync(store.pathOf(other.digest)))
    await assert.rejects(store.get(digest), /is corrupt/)
    const whole = readFileSync(store.pathOf(other.digest))
    writeFileSync(store.pathOf(other.digest), whole.subarray(0, -6))
    await assert.rejects(store.get(other.digest), /unexpected end of file/)
    await assert.rejects(store.get('0'.repeat(64)), {code: 'ENOENT'})
  })

  it('reads many blobs in reader threads: each content in order, or the error of the one that failed', async () => {
    const store = new BlobStore(home)
    // Small contents live in Node's shared buffer pool in the thread: they must still come back whole.
    const contents = [Buffer.from('a'), Buffer.from('small '.repeat(100)), Buffer.from('large '.repeat(200_000)), Buffer.alloc(0)]
    const digests = contents.map(content => put(store, content).digest)
    const corrupt = put(store, Buffer.from('will be replaced')).digest
    writeFileSync(store.pathOf(corrupt), gzipSync('something else'))
    const pool = new BlobReaderPool(2)
    const [first, second] = await Promise.all([
      pool.read(home, [...digests, '0'.repeat(64), corrupt]),
      pool.read(home, digests.toReversed()),
    ])
    assert.deepEqual(first.slice(0, 4), contents)
    assert.equal((first[4] as NodeJS.ErrnoException).code, 'ENOENT')
    assert.match((first[5] as Error).message, /is corrupt/)
    assert.deepEqual(second, contents.toReversed())
  })
})
