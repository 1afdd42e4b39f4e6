import assert from 'node:assert/strict'

import {encodeModifiedUtf7} from '../../../src/engine/export/imap-utf7.js'
import {
  maildirFlags, maildirFolderName, messageFileName, safeName,
} from '../../../src/engine/export/maildir-names.js'

describe('Maildir++ names of an export', () => {
  it('makes the top-level Inbox the Maildir root and other folders dotted directories', () => {
    assert.equal(maildirFolderName('/Inbox'), '')
    assert.equal(maildirFolderName('/INBOX'), '')
    assert.equal(maildirFolderName('/'), '')
    assert.equal(maildirFolderName('/Inbox/Sub'), '.Inbox.Sub')
    assert.equal(maildirFolderName('/Sent'), '.Sent')
    assert.equal(maildirFolderName('/Clients/Acme/2026'), '.Clients.Acme.2026')
  })

  it('escapes dots and backslashes in names as Dovecot listescape does, and encodes non-ASCII in modified UTF-7', () => {
    assert.equal(maildirFolderName('/Projects/v1.2'), String.raw`.Projects.v1\2e2`)
    assert.equal(maildirFolderName(String.raw`/a\b`), String.raw`.a\5cb`)
    assert.equal(maildirFolderName('/Entwürfe'), '.Entw&APw-rfe')
    assert.equal(maildirFolderName('/Tom & Jerry'), '.Tom &- Jerry')
  })

  it('encodes modified UTF-7 as RFC 3501 shows it, surrogate pairs included', () => {
    assert.equal(encodeModifiedUtf7('台北'), '&U,BTFw-')
    assert.equal(encodeModifiedUtf7('日本語'), '&ZeVnLIqe-')
    assert.equal(encodeModifiedUtf7('a😀b'), 'a&2D3eAA-b')
    assert.equal(encodeModifiedUtf7('plain ASCII ~'), 'plain ASCII ~')
  })

  it('maps the IMAP system flags to Maildir letters in ASCII order, ignoring keywords and case', () => {
    assert.equal(maildirFlags([String.raw`\Seen`, String.raw`\Answered`, String.raw`\Flagged`, String.raw`\Deleted`, String.raw`\Draft`, '$Forwarded', 'work']), 'DFRST')
    assert.equal(maildirFlags([String.raw`\SEEN`, String.raw`\seen`]), 'S')
    assert.equal(maildirFlags([]), '')
  })

  it('names a message <time>.<item id>.carbonio-backup:2,<flags> with unsafe id characters encoded', () => {
    const at = Date.parse('2026-11-01T10:01:00.999Z')
    assert.equal(messageFileName(at, '257', [String.raw`\Seen`, String.raw`\Answered`]), `${Math.floor(at / 1000)}.257.carbonio-backup:2,RS`)
    assert.equal(messageFileName(at, 'a/b.c:d', []), `${Math.floor(at / 1000)}.a%2Fb%2Ec%3Ad.carbonio-backup:2,`)
    assert.equal(safeName('ü'), '%C3%BC')
  })
})
