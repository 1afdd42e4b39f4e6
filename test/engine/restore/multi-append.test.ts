import assert from 'node:assert/strict'

import {imapDateTime} from '../../../src/engine/restore/multi-append.js'

describe('MULTIAPPEND date-time', () => {
  it('writes the IMAP date-time in UTC, the day padded with a space, to the second', () => {
    assert.equal(imapDateTime(new Date('2025-03-04T05:06:07.890Z')), ' 4-Mar-2025 05:06:07 +0000')
    assert.equal(imapDateTime(new Date('2024-12-31T23:59:59Z')), '31-Dec-2024 23:59:59 +0000')
  })
})
