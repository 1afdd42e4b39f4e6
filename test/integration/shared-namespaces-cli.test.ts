import assert from 'node:assert/strict'

import {imapSettings} from '../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig} from '../../src/engine/config/config-store.js'
import {FolderRefused} from '../../src/engine/restore/folder-refused.js'
import {ImapRestoreTarget} from '../../src/engine/restore/imap-restore-target.js'
import {JAN, messagesNow} from '../engine/restore/restore-scenario.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'
import {startTestDovecot, type TestDovecot} from '../setup/dovecot-server.js'

// A server that shows more than the account's own folders: bob's Projects shared with alice (ACL), seen by her as
// shared/<bob>/Projects, and a public folder every user sees as Public/News.
describe('other users\' and public folders, through bin/run.js', function () {
  this.timeout(30_000)
  let dovecot: TestDovecot
  let bed: ImapCliBed

  before(async () => {
    dovecot = await startTestDovecot({namespaces: true})
  })

  after(async () => {
    await dovecot.stop()
  })

  beforeEach(async () => {
    bed = await imapCliBed(dovecot)
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  /** alice (INBOX: mine) and bob (Projects: plan, shared with alice, who may read and add), and Public/News (news). */
  async function sharing(): Promise<{alice: string; bob: string}> {
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('mine'), internalDate: JAN}]})
    await dovecot.loadMessages(bob, {Projects: [{raw: message('plan'), internalDate: JAN}]})
    await dovecot.doveadm(['acl', 'set', '-u', bob, 'Projects', `user=${alice}`, 'lookup', 'read', 'write-seen', 'insert', 'expunge'])
    await dovecot.doveadm(['mailbox', 'create', '-u', alice, `Public/News-${bed.domain.split('.')[0]}`])
    const client = await bed.client(alice)
    try {
      await client.append(`Public/News-${bed.domain.split('.')[0]}`, message('news'), [], JAN)
      assert.ok((await client.list()).some(entry => entry.path === `shared/${bob}/Projects`), 'alice sees bob\'s folder')
    } finally {
      await bed.closeClients()
    }

    return {alice, bob}
  }

  it('a SmartScan of alice keeps her own mail only, not bob\'s shared folder nor the public one', async () => {
    const {alice} = await sharing()
    await scanInProcess(bed, alice)
    const search = await runCli(['backup', 'doItemSearch', alice], bed.t.env)
    assert.equal(search.code, 0, search.stderr)
    assert.match(search.stdout, /mine/)
    assert.doesNotMatch(search.stdout, /plan|news/)
  })

  it('doUndelete of alice does not put back into bob\'s folder what bob deleted', async () => {
    const {alice, bob} = await sharing()
    await scanInProcess(bed, alice)
    const client = await bed.client(bob)
    try {
      await client.mailboxOpen('Projects')
      await client.messageDelete('1:*')
    } finally {
      await bed.closeClients()
    }

    await scanInProcess(bed, alice)
    const undelete = await runCli(['backup', 'doUndelete', alice, 'first', 'last'], bed.t.env)
    assert.equal(undelete.code, 0, undelete.stderr)
    assert.deepEqual((await messagesNow(bed, bob)).filter(line => line.startsWith('Projects ')), [])
  })

  it('the daemon records what bob adds to his shared folder as bob\'s, not as alice\'s', async () => {
    const {alice, bob} = await sharing()
    const client = await bed.client(bob)
    try {
      await client.append('Projects', message('later'), [], JAN)
    } finally {
      await bed.closeClients()
    }

    const once = await runCli(['backup', 'daemon', 'once', 'true'], bed.t.env)
    assert.equal(once.code, 0, once.stderr)
    const ofAlice = await runCli(['backup', 'doItemSearch', alice], bed.t.env)
    assert.doesNotMatch(ofAlice.stdout, /plan|later|news/)
    const ofBob = await runCli(['backup', 'doItemSearch', bob], bed.t.env)
    assert.match(ofBob.stdout, /later/)
  })

  it('a restore into alice refuses the shared and public folders a backup made before may hold, and writes nothing there', async () => {
    const {alice, bob} = await sharing()
    const target = await ImapRestoreTarget.open(imapSettings(await serverConfig(bed.t.catalog, 'mail1')), alice)
    try {
      assert.deepEqual((await target.folders()).map(folder => folder.path), ['/INBOX'])
      for (const path of [`/shared/${bob}/Projects`, `/shared/${bob}/Elsewhere`, `/Public/News-${bed.domain.split('.')[0]}`]) {
        await assert.rejects(target.ensureFolder(path), (error: Error) => error instanceof FolderRefused && /not a folder of/.test(error.message))
      }

      assert.equal(await target.ensureFolder('/Own'), 'Own')
    } finally {
      await target.close()
    }
  })
})
