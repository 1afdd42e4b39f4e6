import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'

import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

// A doRestoreOnNewAccount killed under a release before migration 0004 (by the upgrade itself, say) left no record of
// having taken its destination: its rerun is refused as before, but the refusal names that run and the command that
// completes it, instead of the bare "not empty" that pointed at a merge at a later last.
describe('doRestoreOnNewAccount rerun of a run killed before the catalog upgrade, through bin/run.js', function () {
  this.timeout(30_000)
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('is refused naming the earlier run and the moment to complete it at', async () => {
    const {dovecot, t} = bed
    const alice = await bed.user('alice')
    const bob = await bed.user('bob')
    await dovecot.loadMessages(alice, {INBOX: [{raw: message('alice one')}, {raw: message('alice two')}]})
    // What the killed run had put in bob.
    await dovecot.loadMessages(bob, {INBOX: [{raw: message('alice one')}]})
    await scanInProcess(bed, alice)

    const migrated = await t.catalog.db('knex_migrations').where({name: '0004-restore-destinations-taken'}).first('migration_time')
    const startedAt = new Date(migrated.migration_time).getTime() - 60_000
    const uuid = randomUUID()
    await t.catalog.db('operations').insert({
      uuid, type: 'doRestoreOnNewAccount', state: 'interrupted', server: 'mail1', host: 'mail1', pid: 1,
      parameters: JSON.stringify({
        source: alice, destination: bob, force: false, date: 'last',
      }),
      progress: '{}', error: 'the process running it ended without finishing it',
      created_at: startedAt, started_at: startedAt, ended_at: startedAt + 1000, heartbeat_at: startedAt + 1000,
    })

    const rerun = await runCli(['backup', 'doRestoreOnNewAccount', alice, bob, 'last'], t.env)
    assert.equal(rerun.code, 1, rerun.stdout)
    assert.match(rerun.stderr, new RegExp(`${bob} is not empty \\(1 message\\): restore ${uuid} of ${alice} into it \\(interrupted\\) ran before the catalog was upgraded`))
    assert.match(rerun.stderr, new RegExp(`doRestoreOnNewAccount ${alice} ${bob} ${new Date(startedAt).toISOString()} force true`))
    const status = await (await bed.client(bob)).status('INBOX', {messages: true})
    assert.equal(status && status.messages, 1, 'the refusal wrote nothing')
  })
})
