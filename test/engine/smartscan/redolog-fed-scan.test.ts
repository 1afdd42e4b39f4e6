import assert from 'node:assert/strict'
import path from 'node:path'

import {stateAt} from '../../../src/engine/history/state-at.js'
import {catchUp} from '../../helpers/history-scenario.js'
import {imapTestBed, type ImapTestBed, scanInProcess} from '../../helpers/imap-cli-bed.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'
import {message} from './imap-scenario.js'

/**
 * An account the redolog feeds, then scanned over IMAP (as a restore or export of an uncertain account does first):
 * IMAP shows mail only, so the scan must leave alone what it cannot see.
 */
describe('SmartScan of an account fed by the redolog', function () {
  this.timeout(30_000)
  let bed: ImapTestBed

  beforeEach(async () => {
    bed = await imapTestBed()
  })

  afterEach(async () => {
    await bed.cleanup()
  })

  it('keeps the contacts, appointments, tasks and documents that IMAP cannot show', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('a')}]})
    const log = new RedologWriter(path.join(bed.t.home, 'redolog'))
    const start = Date.now() - 60_000
    log.write(alice, 'account.created', {}, start)
    const folders = [['7', '/Contacts', 'contact'], ['10', '/Calendar', 'appointment'], ['15', '/Tasks', 'task'], ['16', '/Briefcase', 'document']]
    for (const [id, folderPath, view] of folders) {
      log.write(alice, 'folder.created', {
        folder: id, parent: '1', path: folderPath, view,
      }, start)
      log.write(alice, 'item.created', {
        item: `${id}01`, type: view, folder: id, content: {inline: 'QkVHSU4=', size: 5},
      }, start)
    }

    await catchUp(bed.t.catalog, log)
    await scanInProcess(bed, alice)

    const now = await stateAt(bed.t.catalog, alice, Date.now())
    assert.deepEqual(now.folders.map(f => f.path).filter(p => p !== '/INBOX').sort(), ['/Briefcase', '/Calendar', '/Contacts', '/Tasks'])
    const items = []
    for await (const item of now.items()) items.push(`${item.type} ${item.id}`)
    assert.deepEqual(items.filter(i => !i.startsWith('message')).sort(), ['appointment 1001', 'contact 701', 'document 1601', 'task 1501'])
  })

  it('takes the Inbox the redolog never declared (Carbonio sends no folder.created for it) for the INBOX', async () => {
    const alice = await bed.user('alice')
    const a = message('a')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: a}]})
    const log = new RedologWriter(path.join(bed.t.home, 'redolog'))
    log.write(alice, 'account.created', {}, Date.now() - 60_000)
    log.write(alice, 'item.created', {
      item: '1001', type: 'message', folder: '2', content: {inline: a.toString('base64'), size: a.length},
    }, Date.now() - 60_000)
    await catchUp(bed.t.catalog, log)
    await scanInProcess(bed, alice)

    const now = await stateAt(bed.t.catalog, alice, Date.now())
    const items = []
    for await (const item of now.items()) items.push(`${item.id} in ${item.folder}`)
    assert.deepEqual(items, ['1001 in 2'], 'the message once, not a second copy in a second Inbox')
  })

  it('keeps a contact in the Trash, which IMAP shows as a mailbox without it', async () => {
    const alice = await bed.user('alice')
    await bed.dovecot.loadMessages(alice, {INBOX: [{raw: message('a')}], Trash: [{raw: message('t')}]})
    const log = new RedologWriter(path.join(bed.t.home, 'redolog'))
    log.write(alice, 'account.created', {}, Date.now() - 60_000)
    log.write(alice, 'folder.created', {
      folder: '3', parent: '1', path: '/Trash',
    }, Date.now() - 60_000)
    log.write(alice, 'item.created', {item: '701', type: 'contact', folder: '7'}, Date.now() - 60_000)
    log.write(alice, 'item.moved', {item: '701', folder: '3'}, Date.now() - 50_000)
    await catchUp(bed.t.catalog, log)
    await scanInProcess(bed, alice)

    const now = await stateAt(bed.t.catalog, alice, Date.now())
    const items = []
    for await (const item of now.items()) items.push(`${item.type} ${item.id} in ${item.folder}`)
    assert.ok(items.includes('contact 701 in 3'), items.join(', '))
  })
})
