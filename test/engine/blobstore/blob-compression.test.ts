import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {
  mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'

import {base64Share, compressionOptions} from '../../../src/engine/blobstore/blob-compression.js'
import {BlobStore, sha256} from '../../../src/engine/blobstore/blob-store.js'
import {BlobWriterPool} from '../../../src/engine/blobstore/blob-writer-pool.js'

const text = Buffer.from('Subject: hello\r\n\r\n' + 'the quarterly report is attached, please review it before the meeting\r\n'.repeat(800))
const attachment = Buffer.from('Subject: scan\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n'
  + 'Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  + randomBytes(60_000).toString('base64').replaceAll(/.{1,76}/g, line => `${line}\r\n`) + '--b--\r\n')

describe('blob compression and the blob writer threads', () => {
  let home: string

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'blob-writer-'))
  })

  afterEach(() => rmSync(home, {force: true, recursive: true}))

  it('tells a message that is mostly base64 from text', () => {
    assert.ok(base64Share(attachment) > 0.8)
    assert.equal(base64Share(text), 0)
    assert.notEqual(compressionOptions(attachment, 6).strategy, undefined)
    assert.equal(compressionOptions(text, 6).strategy, undefined)
    assert.deepEqual(compressionOptions(attachment, 0), {level: 0})
  })

  it('always writes ordinary gzip, private to its owner, that gives back the exact bytes', async () => {
    for (const level of [0, 1, 6, 9]) {
      const store = new BlobStore(path.join(home, String(level)), level)
      for (const content of [text, attachment, Buffer.alloc(0)]) {
        const stored = await store.put(content)
        assert.equal(stored.digest, sha256(content))
        const file = store.pathOf(stored.digest)
        assert.equal(statSync(file).mode & 0o777, 0o600)
        assert.equal(statSync(file).size, stored.storedSize)
        assert.ok(gunzipSync(readFileSync(file)).equals(content))
        assert.ok((await store.get(stored.digest)).equals(content))
      }
    }

    const store = new BlobStore(path.join(home, 'sizes'), 6)
    assert.ok((await store.put(attachment)).storedSize < attachment.length * 0.8)
    assert.ok((await store.put(text)).storedSize < text.length * 0.1)
  })

  it('writes many blobs at once without losing any, and a second put of the same content writes nothing', async () => {
    const store = new BlobStore(home, 6)
    const contents = Array.from({length: 40}, (_, i) => Buffer.concat([attachment, Buffer.from(String(i))]))
    const stored = await Promise.all(contents.map(content => store.put(content)))
    for (const [i, blob] of stored.entries()) {
      assert.equal(blob.written, true)
      assert.ok((await store.get(blob.digest)).equals(contents[i]))
    }

    const again = await store.put(contents[7])
    assert.equal(again.written, false)
    assert.equal(again.storedSize, stored[7].storedSize)
    const leftovers = readdirSync(path.join(home, 'items'), {recursive: true}).filter(name => String(name).includes('.tmp-'))
    assert.deepEqual(leftovers, [])
  })

  it('writes the same through its threads once they are ready as on the calling thread before', async () => {
    const pool = new BlobWriterPool(2)
    await pool.ready()
    const contents = Array.from({length: 20}, (_, i) => Buffer.concat([text, Buffer.from(String(i))]))
    const results = await Promise.all(contents.map(content => pool.write({
      content, digest: sha256(content), level: 6, target: path.join(home, sha256(content)), temporaryDir: path.join(home, '.tmp'),
    })))
    for (const [i, result] of results.entries()) {
      assert.equal(result.written, true)
      assert.ok(gunzipSync(readFileSync(path.join(home, sha256(contents[i])))).equals(contents[i]))
    }
  })

  it('fails a write it cannot do with the file system error, and keeps writing the next ones', async () => {
    const store = new BlobStore(home, 6)
    // A file where the blob's directory should be: no user, root included, can create the blob under it.
    const dir = path.dirname(store.pathOf(sha256(text)))
    mkdirSync(path.dirname(dir), {recursive: true})
    writeFileSync(dir, 'not a directory')
    await assert.rejects(store.put(text), (error: NodeJS.ErrnoException) => ['EEXIST', 'ENOTDIR'].includes(error.code ?? ''))
    rmSync(dir)
    assert.equal((await store.put(text)).written, true)
    assert.equal((await store.put(attachment)).written, true)
  })
})
