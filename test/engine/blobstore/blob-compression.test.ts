import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {gunzipSync} from 'node:zlib'

import {base64Share, compress, compressionOptions} from '../../../src/engine/blobstore/blob-compression.js'

const text = Buffer.from('Subject: hello\r\n\r\n' + 'the quarterly report is attached, please review it before the meeting\r\n'.repeat(800))
const attachment = Buffer.from('Subject: scan\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n'
  + 'Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n'
  + randomBytes(60_000).toString('base64').replaceAll(/.{1,76}/g, line => `${line}\r\n`) + '--b--\r\n')

describe('blob compression', () => {
  it('tells a message that is mostly base64 from text', () => {
    assert.ok(base64Share(attachment) > 0.8)
    assert.equal(base64Share(text), 0)
    assert.notEqual(compressionOptions(attachment, 6).strategy, undefined)
    assert.equal(compressionOptions(text, 6).strategy, undefined)
    assert.deepEqual(compressionOptions(attachment, 0), {level: 0})
  })

  it('always writes ordinary gzip that gives back the exact bytes', async () => {
    for (const content of [text, attachment, Buffer.alloc(0)]) {
      for (const level of [0, 1, 6, 9]) {
        assert.ok(gunzipSync(await compress(content, level)).equals(content))
      }
    }

    assert.ok((await compress(attachment, 6)).length < attachment.length * 0.8)
    assert.ok((await compress(text, 6)).length < text.length * 0.1)
  })

  it('runs many compressions at once without losing any', async () => {
    const contents = Array.from({length: 20}, (_, i) => Buffer.concat([attachment, Buffer.from(String(i))]))
    const results = await Promise.all(contents.map(content => compress(content, 6)))
    for (const [i, result] of results.entries()) assert.ok(gunzipSync(result).equals(contents[i]))
  })
})
