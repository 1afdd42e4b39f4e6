import assert from 'node:assert/strict'
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {readBlob} from '../../../src/engine/blobstore/blob-read.js'
import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'

describe('reading a blob back', () => {
  let home: string

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'blob-read-'))
  })

  afterEach(() => rmSync(home, {force: true, recursive: true}))

  it('gives the exact content of any size, whatever the gzip trailer says about it', async () => {
    const store = new BlobStore(home)
    for (const content of [Buffer.alloc(0), Buffer.from('x'), Buffer.from('a line of text\r\n'.repeat(100_000))]) {
      const {digest} = await store.put(content)
      assert.deepEqual(await store.get(digest), content)
    }

    // A trailer whose size is wrong only makes the output come in more pieces: the content is still all there.
    const content = Buffer.from('several members '.repeat(10_000))
    const file = path.join(home, 'two-members')
    writeFileSync(file, Buffer.concat([gzipSync(content.subarray(0, 100_000)), gzipSync(content.subarray(100_000))]))
    assert.deepEqual(await readBlob(file, sha256(content)), content)
  })

  it('refuses a file whose content does not hash to its name, or that is cut short', async () => {
    const store = new BlobStore(home)
    const {digest} = await store.put(Buffer.from('the real content'))
    const other = await store.put(Buffer.from('some other content'))
    writeFileSync(store.pathOf(digest), readFileSync(store.pathOf(other.digest)))
    await assert.rejects(store.get(digest), /is corrupt/)
    const whole = readFileSync(store.pathOf(other.digest))
    writeFileSync(store.pathOf(other.digest), whole.subarray(0, -6))
    await assert.rejects(store.get(other.digest), /unexpected end of file/)
    await assert.rejects(store.get('0'.repeat(64)), {code: 'ENOENT'})
  })
})
