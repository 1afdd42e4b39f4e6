import assert from 'node:assert/strict'

import type {MessageMeta} from '../../../src/engine/appserver/imap/imap-session.js'
import type {BackupItem} from '../../../src/engine/smartscan/backup-view.js'

import {diffFolder} from '../../../src/engine/smartscan/folder-diff.js'

const UIDVALIDITY = 42

function item(uid: number, flags: string[] = [], uidvalidity = UIDVALIDITY): BackupItem {
  return {
    id: `i${uid}-${uidvalidity}`, folder: 'f', flags, digest: null, size: 1, contentMissing: false, place: {uid, uidvalidity}, metadata: {},
  }
}

function message(uid: number, flags: string[] = []): MessageMeta {
  return {
    uid, flags, modseq: '9', internalDate: null, size: 1, headers: {} as MessageMeta['headers'],
  }
}

describe('folder diff', () => {
  // A folder of 100 in the backup (one misplaced at an old UIDVALIDITY); since the baseline: UID 7 flagged, UIDs 8
  // and 9 expunged, UID 101 delivered.
  const backup = [...Array.from({length: 100}, (_, i) => item(i + 1)), item(500, [], 41)]
  const read = {
    status: {
      uidvalidity: UIDVALIDITY, uidnext: 102, highestmodseq: '9', messages: 99,
    },
    messages: [message(7, [String.raw`\Flagged`]), message(101)],
    vanished: [8, 9],
    complete: false,
  }

  it('gives the same diff from only the items the changes name, with the count of the others', () => {
    const full = diffFolder(backup, read)
    const concerned = backup.filter(i => [7, 8, 9, 101].includes(i.place!.uid) || i.place!.uidvalidity !== UIDVALIDITY)
    const partial = diffFolder(concerned, read, 100)
    assert.deepEqual(partial, full)
    assert.equal(full.expectedCount, 99)
    assert.deepEqual(full.flagged.map(f => f.item.id), ['i7-42'])
    assert.deepEqual(full.added.map(m => m.uid), [101])
    assert.deepEqual(full.removed.map(i => i.id).sort(), ['i500-41', 'i8-42', 'i9-42'])
  })

  it('tells by the count when the changes do not add up (an expunge the server did not report)', () => {
    assert.notEqual(diffFolder(backup, {...read, vanished: [8]}).expectedCount, read.status.messages)
  })
})
