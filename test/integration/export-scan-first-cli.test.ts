import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {markUncertain} from '../../src/engine/scanner/account-certainty.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

describe('backup doExport of an uncertain account with the IMAP AppServer configured', () => {
  let bed: ImapCliBed
  let work: string

  beforeEach(async () => {
    bed = await imapCliBed()
    work = mkdtempSync(path.join(tmpdir(), 'carbonio-export-scan-'))
  })

  afterEach(async () => {
    await bed.cleanup()
    rmSync(work, {force: true, recursive: true})
  })

  it('runs an account SmartScan first, says so, and exports what the server has', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('before')}]})
    const scan = await runCli(['backup', 'doAccountScan', alice], bed.t.env)
    assert.equal(scan.code, 0, scan.stderr)
    // Delivered while nothing followed the account, which then became uncertain (as after the scanner was off).
    const client = await bed.client(alice)
    await client.append('INBOX', message('while nobody looked'))
    const {id} = await bed.t.catalog.db('accounts').where({name: alice}).first('id')
    await markUncertain(bed.t.catalog.db, [id], 'the Realtime Scanner was off')

    const target = path.join(work, 'export')
    const exported = await runCli(['backup', 'doExport', target, 'accounts', alice, '--json'], bed.t.env)
    assert.equal(exported.code, 0, exported.stderr)
    const view = JSON.parse(exported.stdout)
    assert.deepEqual(view.result.scannedFirst, [alice])
    assert.deepEqual(view.result.uncertainAccounts, [])
    assert.equal(view.result.totals.messages, 2)
    assert.equal(readdirSync(path.join(target, alice, 'Maildir', 'cur')).length, 2)
    const info = JSON.parse((await runCli(['backup', 'getAccountInfo', alice, '--json'], bed.t.env)).stdout)
    assert.equal(info.certain, true)

    await markUncertain(bed.t.catalog.db, [id], 'the Realtime Scanner was off')
    const text = await runCli(['backup', 'doExport', path.join(work, 'again'), 'accounts', alice], bed.t.env)
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`^${alice} was uncertain: an account SmartScan ran first$`, 'm'))
    assert.doesNotMatch(text.stdout, /WARNING/)
  })
})
