import type {FetchMessageObject, ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {fetchAnswers} from '../../../../src/engine/appserver/imap/fetch-answers.js'

/** A client whose FETCH yields these rows, as imapflow yields every FETCH row that arrives during the command. */
function clientYielding(rows: Array<Partial<FetchMessageObject>>): ImapFlow {
  return {
    async * fetch() {
      for (const row of rows) yield row as FetchMessageObject
    },
  } as unknown as ImapFlow
}

/** The row that answers a metadata FETCH for one message. */
function answer(uid: number, flags: string[]): Partial<FetchMessageObject> {
  return {
    seq: uid, uid, flags: new Set(flags), size: 100 + uid, internalDate: new Date(uid * 1000), modseq: BigInt(uid),
  }
}

describe('fetchAnswers', () => {
  it('leaves out notices of other sessions\' changes and merges a message\'s rows, the later over the earlier', async () => {
    const rows = await fetchAnswers(clientYielding([
      answer(1, []),
      answer(2, [String.raw`\Seen`]),
      // Dovecot's notices before its tagged OK: a message not asked for, and a newer state of one that was.
      {
        seq: 3, uid: 3, flags: new Set([String.raw`\Flagged`]), modseq: 9n,
      },
      {
        seq: 1, uid: 1, flags: new Set([String.raw`\Answered`]), modseq: 8n,
      },
    ]), '1:*', {uid: true, size: true}, {uid: true})
    assert.deepEqual(rows.map(row => [row.uid, row.size, row.internalDate, [...row.flags!], row.modseq]), [
      [1, 101, new Date(1000), [String.raw`\Answered`], 8n],
      [2, 102, new Date(2000), [String.raw`\Seen`], 2n],
    ])
  })
})
