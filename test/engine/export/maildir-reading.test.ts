import assert from 'node:assert/strict'

import {decodeModifiedUtf7, encodeModifiedUtf7} from '../../../src/engine/export/imap-utf7.js'
import {maildirFolderName, messageFileName} from '../../../src/engine/export/maildir-names.js'
import {folderPathOfMaildir, parseMaildirFileName} from '../../../src/engine/export/maildir-reading.js'

describe('reading an exported Maildir++ tree back', () => {
  it('turns directory names into the folder paths doExport wrote them from', () => {
    for (const folder of ['/Sent', '/Inbox/Sub', '/Entwürfe', '/Projects/v1.2', String.raw`/a\b`, '/A & B', '/日本語/😀']) {
      assert.equal(folderPathOfMaildir(maildirFolderName(folder)), folder)
    }

    assert.equal(folderPathOfMaildir(''), '/INBOX')
    assert.equal(decodeModifiedUtf7(encodeModifiedUtf7('Grüße & more')), 'Grüße & more')
    assert.equal(decodeModifiedUtf7('broken &$$- name'), 'broken &$$- name')
  })

  it('reads the item id and the flags of a file name, also after a mail program renamed it', () => {
    const name = messageFileName(1_700_000_000_000, 'f1/2/3', [String.raw`\Seen`, String.raw`\Answered`, '$Label1'])
    assert.deepEqual(parseMaildirFileName(name), {item: 'f1/2/3', flags: [String.raw`\Answered`, String.raw`\Seen`]})
    assert.deepEqual(parseMaildirFileName(`${name}FT`).flags, [String.raw`\Answered`, String.raw`\Deleted`, String.raw`\Flagged`, String.raw`\Seen`])
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host,S=120:2,D'), {item: null, flags: [String.raw`\Draft`]})
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host'), {item: null, flags: []})
  })
})
