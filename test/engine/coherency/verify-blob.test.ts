import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {verifyBlobFile} from '../../../src/engine/coherency/verify-blob.js'

function digestOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

describe('verifyBlobFile', () => {
  let dir: string

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'carbonio-verify-blob-'))
  })

  after(() => {
    rmSync(dir, {recursive: true, force: true})
  })

  function write(name: string, bytes: Buffer): string {
    const file = path.join(dir, name)
    writeFileSync(file, bytes)
    return file
  }

  it('accepts a small blob (read whole) and reports its sizes', async () => {
    const content = Buffer.from('Subject: hi\r\n\r\nhello\r\n')
    const gz = gzipSync(content)
    assert.deepEqual(await verifyBlobFile(write('small', gz), digestOf(content)), {status: 'ok', size: content.length, storedSize: gz.length})
  })

  it('accepts a blob whose file is over 1 MiB (streamed) and one that inflates past 16 MiB (streamed after all)', async () => {
    const random = randomBytes(3 << 19)
    assert.equal((await verifyBlobFile(write('big', gzipSync(random)), digestOf(random))).status, 'ok')
    const airy = Buffer.alloc(20 << 20, 'a')
    const gz = gzipSync(airy)
    assert.ok(gz.length < 1 << 20, 'a small file')
    assert.deepEqual(await verifyBlobFile(write('airy', gz), digestOf(airy)), {status: 'ok', size: airy.length, storedSize: gz.length})
  })

  it('calls corrupt: a flipped byte (read whole and streamed), content under another name, not gzip, empty, a directory', async () => {
    for (const size of [5000, 3 << 19]) {
      const content = randomBytes(size)
      const gz = gzipSync(content)
      gz[Math.floor(gz.length / 2)] ^= 0x01
      const verdict = await verifyBlobFile(write(`flipped-${size}`, gz), digestOf(content))
      assert.equal(verdict.status, 'corrupt', `${size} bytes`)
    }

    const other = await verifyBlobFile(write('other', gzipSync(Buffer.from('x'))), digestOf(Buffer.from('y')))
    assert.equal(other.status, 'corrupt')
    assert.match((other as {detail: string}).detail, /hashes to [0-9a-f]{64}, not to its name/)
    const plain = await verifyBlobFile(write('plain', Buffer.from('plain text')), digestOf(Buffer.from('plain text')))
    assert.match((plain as {detail: string}).detail, /does not gunzip/)
    assert.equal((await verifyBlobFile(write('empty', Buffer.alloc(0)), digestOf(Buffer.alloc(0)))).status, 'corrupt')
    mkdirSync(path.join(dir, 'a-directory'))
    assert.deepEqual(await verifyBlobFile(path.join(dir, 'a-directory'), digestOf(Buffer.alloc(0))), {status: 'corrupt', storedSize: 0, detail: 'not a regular file'})
  })

  it('calls missing only a file that is not there', async () => {
    assert.deepEqual(await verifyBlobFile(path.join(dir, 'nothing'), 'a'.repeat(64)), {status: 'missing'})
    assert.deepEqual(await verifyBlobFile(path.join(dir, 'small', 'below-a-file'), 'a'.repeat(64)), {status: 'missing'})
  })
})
