import assert from 'node:assert/strict'
import {rm} from 'node:fs/promises'

import {smartScan} from '../../src/engine/smartscan/smart-scan.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

describe('backup doItemRestore of an item of a deleted account', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('fails saying the account is deleted and what restores its mail, not that the master user\'s login is misconfigured', async () => {
    const alice = await bed.user('alice')
    await bed.user('bob') // the accounts command lists someone while alice is gone
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('invoice 42')}]})
    await scanInProcess(bed, alice)
    await bed.dovecot.removeUser(alice)
    await rm(bed.dovecot.maildirOf(alice), {recursive: true, force: true})
    const gone = await smartScan({
      catalog: bed.t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
    }, {})
    assert.deepEqual(gone.deletedAccounts, [alice])
    const search = await runCli(['backup', 'doItemSearch', alice, '--json'], bed.t.env)
    const [{id}] = JSON.parse(search.stdout).matches

    const restore = await runCli(['backup', 'doItemRestore', alice, id], bed.t.env)
    assert.equal(restore.code, 1)
    assert.doesNotMatch(restore.stderr, /refused the login|would not open|backupAppServerUser/)
    assert.match(restore.stderr, new RegExp(`account ${alice} was deleted at \\S+: doItemRestore .*; carbonio backup doRestoreOnNewAccount ${alice} <account> \\d{4}-\\S+Z restores`))
  })
})
