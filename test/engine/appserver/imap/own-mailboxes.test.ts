import assert from 'node:assert/strict'

import {isOwnMailbox} from '../../../../src/engine/appserver/imap/own-mailboxes.js'

describe('isOwnMailbox', () => {
  const dovecot = {
    personal: [{prefix: '', delimiter: '/'}],
    other: [{prefix: 'shared/', delimiter: '/'}],
    shared: [{prefix: 'Public/', delimiter: '/'}],
  }

  it('keeps the personal namespace and leaves out other users\' and public folders with their root names', () => {
    for (const own of ['INBOX', 'Sent', 'Archive/2024', 'sharedstuff', 'Publications']) assert.equal(isOwnMailbox(own, dovecot), true, own)
    for (const theirs of ['shared', 'shared/bob@example.com', 'shared/bob@example.com/INBOX', 'Public', 'Public/News']) {
      assert.equal(isOwnMailbox(theirs, dovecot), false, theirs)
    }
  })

  it('takes the longest prefix: a personal "INBOX." inside a shared namespace without prefix', () => {
    const courier = {personal: [{prefix: 'INBOX.', delimiter: '.'}], other: false as const, shared: [{prefix: '', delimiter: '.'}]}
    assert.equal(isOwnMailbox('INBOX', courier), true)
    assert.equal(isOwnMailbox('INBOX.Sent', courier), true)
    assert.equal(isOwnMailbox('Team', courier), false)
  })

  it('keeps everything when the server gave no namespaces', () => {
    assert.equal(isOwnMailbox('shared/bob/INBOX'), true)
  })
})
