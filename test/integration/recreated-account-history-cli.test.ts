import assert from 'node:assert/strict'
import {rm} from 'node:fs/promises'

import {smartScan} from '../../src/engine/smartscan/smart-scan.js'
import {message} from '../engine/smartscan/imap-scenario.js'
import {type ImapCliBed, imapCliBed, scanInProcess} from '../helpers/imap-cli-bed.js'
import {runCli} from '../helpers/run-cli.js'

/**
 * An account deleted by mistake and created again with the same address, as provisioning does: the old mail is in
 * the deleted account (now `address#deleted-<ms>`), and the readers an administrator types the address into must
 * lead there rather than say that the backup does not have it.
 */
describe('history readers on an address deleted and created again', () => {
  let bed: ImapCliBed

  beforeEach(async () => {
    bed = await imapCliBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('doItemSearch and getItem of the address name the deleted account that holds its earlier mail', async () => {
    const alice = await bed.user('alice')
    await bed.user('bob') // the accounts command lists someone while alice is gone
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('invoice 42')}]})
    await scanInProcess(bed, alice)
    const [old] = JSON.parse((await runCli(['backup', 'doItemSearch', alice, '--json'], bed.t.env)).stdout).matches
    await bed.dovecot.removeUser(alice)
    await rm(bed.dovecot.maildirOf(alice), {recursive: true, force: true})
    const gone = await smartScan({
      catalog: bed.t.catalog, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress() {},
    }, {})
    assert.deepEqual(gone.deletedAccounts, [alice])
    // Dovecot's UIDVALIDITY is the second a mailbox is created: the new INBOX created within the same second as the
    // old one would give the new account's message the very id the old one had, which getItem below must not find.
    await new Promise(resolve => {
      setTimeout(resolve, 1100)
    })
    await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('welcome back')}]})
    await scanInProcess(bed, alice)
    const [deleted] = JSON.parse((await runCli(['backup', 'getAvailableAccounts', '--json'], bed.t.env)).stdout).accounts
    .filter((account: {deleted: boolean}) => account.deleted).map((account: {account: string}) => account.account)

    const search = await runCli(['backup', 'doItemSearch', alice, 'search_string', 'invoice'], bed.t.env)
    assert.equal(search.code, 0, search.stderr)
    assert.match(search.stdout, new RegExp(`^0 items of ${alice}\n.*deleted account ${deleted}.*doItemSearch ${deleted}`, 'm'))
    const json = JSON.parse((await runCli(['backup', 'doItemSearch', alice, '--json'], bed.t.env)).stdout)
    assert.deepEqual(json.earlierAccounts, [deleted])

    const item = await runCli(['backup', 'getItem', alice, old.id], bed.t.env)
    assert.equal(item.code, 1)
    const pointer = `it is an item of the deleted account ${deleted}, which had the address before: carbonio backup getItem ${deleted} ${old.id}`
    assert.match(item.stderr, new RegExp(`^Error: item ${old.id} of ${alice} is not in the backup: ${pointer}\n$`))
  })
})
