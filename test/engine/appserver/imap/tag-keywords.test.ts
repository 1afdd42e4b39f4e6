import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {ItemRevision} from '../../../../src/engine/history/item-revision.js'

import {flagsWithTags, keywordOfTag} from '../../../../src/engine/appserver/imap/tag-keywords.js'
import {ITEMS_FILE} from '../../../../src/engine/export/account-export.js'
import {readExportedItems} from '../../../../src/engine/export/exported-items.js'
import {restoreMessageOf} from '../../../../src/engine/restore/restore-message.js'

describe('tags as IMAP keywords', () => {
  it('keeps a tag that is an IMAP atom and replaces what an atom cannot carry', () => {
    assert.equal(keywordOfTag('Work'), 'Work')
    assert.equal(keywordOfTag('$Label1'), '$Label1')
    assert.equal(keywordOfTag('to do (later)'), 'to_do__later_')
    assert.equal(keywordOfTag(String.raw`a\b"c%d*e]f{g`), 'a_b_c_d_e_f_g')
    assert.equal(keywordOfTag('Grüße'), 'Gr__e')
    // Never a system flag: the backslash is replaced.
    assert.equal(keywordOfTag(String.raw`\Seen`), '_Seen')
    assert.equal(keywordOfTag(''), null)
  })

  it('adds the tags to the flags once each', () => {
    assert.deepEqual(flagsWithTags([String.raw`\Seen`, 'Work'], ['Work', 'Urgent', '']), [String.raw`\Seen`, 'Work', 'Urgent'])
    assert.deepEqual(flagsWithTags([], []), [])
  })

  it('a restored message carries its tags as keywords', () => {
    const state = {
      flags: [String.raw`\Seen`], tags: ['Project X'], blobDigest: 'd'.repeat(64), metadata: {internalDate: '2026-01-05T08:00:00Z', messageId: '<a@b>'},
    } as unknown as ItemRevision
    assert.deepEqual(restoreMessageOf(state, Buffer.from('x')).flags, [String.raw`\Seen`, 'Project_X'])
  })

  it('an exported message is imported with its keywords and its tags', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carbonio-tag-keywords-'))
    try {
      writeFileSync(path.join(dir, ITEMS_FILE), `${JSON.stringify({
        id: '7', type: 'message', folderPath: '/INBOX', flags: [String.raw`\Seen`, '$Forwarded'], tags: ['Urgent', 42],
      })}\n`)
      const messages = await readExportedItems(dir, () => {})
      assert.deepEqual(messages.get('7')!.keywords, ['$Forwarded', 'Urgent'])
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })
})
