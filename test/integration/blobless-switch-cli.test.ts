import assert from 'node:assert/strict'

import {setAttribute} from '../../src/engine/config/config-store.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {
  GLOBAL, type ImapCliBed, imapCliBed, scanInProcess,
} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

describe('switching blobless mode off, through bin/run.js', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('getBackupInfo says how to copy the content of messages backed up without it, and a deep SmartScan does', async () => {
    // A SmartScan reads only changed folders: messages backed up in blobless mode stay without content after it is off.
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('a')}, {raw: message('b')}]})
    await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'true')
    await scanInProcess(bed, alice)
    await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'false')
    await scanInProcess(bed, alice)

    const info = await runCli(['backup', 'getBackupInfo'], t.env)
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, /blobless mode: off; current items without content in the backup: 2 \(2 not stored, 0 missing on the AppServer\)\n/)
    assert.match(info.stdout, /\n {2}restores read their content from the AppServer: carbonio backup doSmartScan start deep true copies it into the backup\n/)
    const deep = await runCli(['backup', 'doSmartScan', 'start', 'deep', 'true'], t.env)
    assert.equal(deep.code, 0, deep.stderr)
    const after = await runCli(['backup', 'getBackupInfo'], t.env)
    assert.match(after.stdout, /blobless mode: off; current items without content in the backup: 0 .*\nlast transaction/)
  })
})
