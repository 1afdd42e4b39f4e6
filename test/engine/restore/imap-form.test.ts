import assert from 'node:assert/strict'

import {likenessDigest, mayBeNormalised} from '../../../src/engine/restore/imap-form.js'

describe('what an IMAP server may rewrite on APPEND', () => {
  it('is a CR without LF, an LF without CR, or a NUL; CRLF line ends and 8-bit bytes are kept as they are', () => {
    for (const text of ['a\r\r\nb', 'a\nb', 'a\rb', 'a\u0000b', '\nb', 'a\r']) assert.equal(mayBeNormalised(Buffer.from(text, 'latin1')), true, JSON.stringify(text))
    for (const text of ['a\r\nb\r\n', 'caf\u00E9\r\n', '']) assert.equal(mayBeNormalised(Buffer.from(text, 'latin1')), false, JSON.stringify(text))
  })

  it('leaves alike what the server rewrites, and only that', () => {
    const stored = likenessDigest(Buffer.from('line\r\nend\r\n\u0080', 'latin1'))
    assert.equal(likenessDigest(Buffer.from('line\r\r\nend\n\u0000', 'latin1')), stored)
    assert.notEqual(likenessDigest(Buffer.from('lime\r\nend\r\n\u0080', 'latin1')), stored)
  })
})
