import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {ImapSession} from '../../../src/engine/appserver/imap/imap-session.js'
import {imapSettings} from '../../../src/engine/appserver/imap/imap-settings.js'
import {serverConfig} from '../../../src/engine/config/config-store.js'
import {findAccount} from '../../../src/engine/history/account-lookup.js'
import {FolderHistory} from '../../../src/engine/history/folder-history.js'
import {itemHistory} from '../../../src/engine/history/item-history.js'
import {searchItems} from '../../../src/engine/history/item-search.js'
import {stateAt} from '../../../src/engine/history/state-at.js'
import {deletedMessages} from '../../../src/engine/restore/deleted-messages.js'
import {scanStorage, writeQueue} from '../../../src/engine/smartscan/account-scan.js'
import {runImapCycle} from '../../../src/engine/smartscan/sync-cycle.js'
import {DIALECTS} from '../../helpers/test-catalog.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from './imap-scenario.js'

// A cycle reads an account's folders one after another: a MOVE made between two of those reads shows only one of its
// halves to that cycle, and the other to the next one. Each test makes the move at the worst moment: just after the
// cycle's LIST-STATUS, when the folder statuses it will act on are already taken.
for (const dialect of DIALECTS) {
  describe(`a MOVE seen in halves by two cycles (${dialect})`, function () {
    this.timeout(60_000)
    let s: Scenario

    beforeEach(async () => {
      s = await imapScenario(dialect)
    })

    afterEach(async () => {
      await s.cleanup()
    })

    /** One cycle of the account, with `meanwhile` run by another client right after the cycle listed the folders. */
    async function cycleWith(address: string, meanwhile: () => Promise<void>): Promise<void> {
      const settings = imapSettings(await serverConfig(s.t.catalog, SERVER))
      const session = await ImapSession.open(settings, address)
      const listFolders = session.folders.bind(session)
      let done = false
      session.folders = async () => {
        const folders = await listFolders()
        if (!done) {
          done = true
          await meanwhile()
        }

        return folders
      }

      try {
        const {blobs, blobless} = await scanStorage(s.t.catalog, SERVER)
        await runImapCycle({
          catalog: s.t.catalog, blobs, blobless, session, account: address, serialize: writeQueue(), signal: new AbortController().signal,
        })
      } finally {
        await session.close()
      }
    }

    async function moveFirstInbox(address: string): Promise<void> {
      const client = await s.client(address)
      const lock = await client.getMailboxLock('INBOX')
      try {
        await client.messageMove('1', 'Archive', {uid: true})
      } finally {
        lock.release()
      }
    }

    async function start(): Promise<{address: string; moving: string}> {
      const address = await s.user('hal')
      await s.dovecot.loadMessages(address, {INBOX: [{raw: message('moving')}], Archive: [{raw: message('archived')}]})
      await s.scan()
      const moving = (await s.liveItems(address)).find(item => item.path === '/INBOX')!.id
      return {address, moving}
    }

    async function assertMovedOnce(address: string, moving: string, paths: string[]): Promise<void> {
      const live = await s.liveItems(address)
      assert.deepEqual(live.map(item => item.path).sort(), paths, JSON.stringify(live))
      const moved = live.find(item => item.id === moving)
      assert.equal(moved?.path, '/Archive', `the moved message keeps its item: ${JSON.stringify(live)}`)
    }

    it('destination read first: the new message in it is the item moved, not a copy that a deletion follows', async () => {
      const {address, moving} = await start()
      const client = await s.client(address)
      // Archive changed before the cycle lists (it will be read); INBOX did not (it will not be).
      await client.append('Archive', message('archived later'))
      await cycleWith(address, () => moveFirstInbox(address))
      await client.append('INBOX', message('new in inbox'))
      await s.scan()
      await assertMovedOnce(address, moving, ['/Archive', '/Archive', '/Archive', '/INBOX'])
      assert.deepEqual((await s.revisions(address, moving)).map(r => [r.operation, r.deleted]), [['item.created', false], ['item.moved', false]])
    })

    it('source read first: the message deleted a moment ago comes back as itself when it shows up moved', async () => {
      const {address, moving} = await start()
      const client = await s.client(address)
      // INBOX changed before the cycle lists (it will be read, without the message); Archive did not.
      await client.append('INBOX', message('new in inbox'))
      await cycleWith(address, () => moveFirstInbox(address))
      await s.scan()
      await assertMovedOnce(address, moving, ['/Archive', '/Archive', '/INBOX'])
      // One history: its deletion is followed by its return, and doUndelete finds nothing to bring back.
      assert.equal((await s.revisions(address, moving)).at(-1)!.deleted, false)
    })

    it('source read first: the next cycle long after (the daemon stopped in between) still finds the message moved', async () => {
      const {address, moving} = await start()
      const client = await s.client(address)
      await client.append('INBOX', message('new in inbox'))
      await cycleWith(address, () => moveFirstInbox(address))
      // Ten minutes pass before the next cycle: everything the catalog holds of the account is that much older.
      const {db} = s.t.catalog
      const accountId = (await db('accounts').where({name: address}).first('id')).id
      const items = db('items').where({account_id: accountId}).select('id')
      await db('item_revisions').whereIn('item_id', items).update({valid_from: db.raw('valid_from - 600000')})
      await db('item_revisions').whereIn('item_id', items).whereNotNull('valid_to').update({valid_to: db.raw('valid_to - 600000')})
      await db('checkpoints').where({scope: address}).update({updated_at: db.raw('updated_at - 600000')})
      await s.scan()
      await assertMovedOnce(address, moving, ['/Archive', '/Archive', '/INBOX'])
      assert.equal((await s.revisions(address, moving)).at(-1)!.deleted, false)
    })

    it('source read first: between the two cycles every read has the message in its new folder, none deleted', async () => {
      const {address, moving} = await start()
      const before = Date.now()
      const client = await s.client(address)
      await client.append('INBOX', message('new in inbox'))
      await cycleWith(address, () => moveFirstInbox(address))
      await new Promise(resolve => {
        setTimeout(resolve, 20)
      })
      // After the cycle that saw only the expunge, before the one that finds the message in Archive.
      const between = Date.now()
      await new Promise(resolve => {
        setTimeout(resolve, 20)
      })
      await s.scan()
      const {catalog} = s.t
      const pathsAt = async (at: number) => {
        const paths: string[] = []
        for await (const item of (await stateAt(catalog, address, at)).items()) if (item.id === moving) paths.push(item.folderPath)
        return paths
      }

      assert.deepEqual(await pathsAt(before), ['/INBOX'])
      assert.deepEqual(await pathsAt(between), ['/Archive'], 'export and restores at that moment hold the message once')
      const state = await stateAt(catalog, address, between)
      const history = await itemHistory(catalog, address, moving, {kind: 'at', at: between})
      assert.deepEqual(history.states.map(r => [r.deleted, r.folder]), [[false, state.folders.find(f => f.path === '/Archive')!.id]])
      assert.deepEqual((await s.revisions(address, moving)).map(r => [r.operation, r.deleted]), [['item.created', false], ['item.moved', false]])
      const account = await findAccount(catalog, address)
      const deleted = await deletedMessages(catalog, account, {from: null, to: null}, await FolderHistory.load(catalog.db, account.key))
      assert.deepEqual(deleted.map(d => d.id), [], 'doUndelete has no deletion to count')
      const found = await searchItems(catalog, address, {text: 'moving', filter: 'deleted'})
      assert.deepEqual(found.matches, [])
    })

    it('a COPY of a message of which an identical one was just deleted leaves that deletion alone', async () => {
      const address = await s.user('ida')
      const same = message('twice')
      await s.dovecot.loadMessages(address, {INBOX: [{raw: same}], Archive: [{raw: same}]})
      await s.scan()
      const deleted = (await s.liveItems(address)).find(item => item.path === '/INBOX')!.id
      const client = await s.client(address)
      await expungeFirst(client, 'INBOX')
      await s.scan()
      await client.mailboxCreate('Projects')
      const lock = await client.getMailboxLock('Archive')
      try {
        await client.messageCopy('1', 'Projects', {uid: true})
      } finally {
        lock.release()
      }

      await s.scan()
      // The copy may as well be of the Archive message as the deleted one's return: a deletion is kept a deletion,
      // which doUndelete brings back, rather than hidden.
      assert.equal((await s.revisions(address, deleted)).at(-1)!.deleted, true)
      assert.deepEqual((await s.liveItems(address)).map(item => item.path).sort(), ['/Archive', '/Projects'])
    })

    /** A user whose INBOX holds one message of March, captured, beside an empty Archive. */
    async function withMarchMessage(name: string): Promise<{address: string; bytes: Buffer; client: ImapFlow; original: string}> {
      const address = await s.user(name)
      const bytes = message(`${name}'s message`)
      const client = await s.client(address)
      await client.mailboxCreate('Archive')
      await client.append('INBOX', bytes, [], new Date('2026-03-01T09:00:00Z'))
      await s.scan()
      return {
        address, bytes, client, original: (await s.liveItems(address))[0].id,
      }
    }

    it('the same bytes uploaded again after a deletion are a new message: the deletion stays one', async () => {
      const {address, bytes, client, original} = await withMarchMessage('jon')
      await expungeFirst(client, 'INBOX')
      await s.scan()
      const between = Date.now()
      // A client uploads the message again: the same bytes, the internal date of now (a MOVE would keep March's).
      await client.append('Archive', bytes)
      await s.scan()
      assert.equal((await s.revisions(address, original)).at(-1)!.deleted, true, 'the deletion the user made stays')
      const live = await s.liveItems(address)
      assert.deepEqual(live.map(item => item.path), ['/Archive'])
      assert.notEqual(live[0].id, original)
      assert.deepEqual(await foldersAt(address, between), [], 'a restore of the moment between has neither message')
    })

    /** The folder of each message a point-in-time read of the account at `at` has. */
    async function foldersAt(address: string, at: number): Promise<string[]> {
      const paths: string[] = []
      for await (const item of (await stateAt(s.t.catalog, address, at)).items()) paths.push(item.folderPath)
      return paths.sort()
    }

    /**
     * March's message deleted, captured, then put back into Archive with its bytes and internal date (what doItemRestore
     * of it does) and captured; with `laterCycle`, another change is captured in between. The deletion used to be
     * taken for a MOVE's first half and replaced by a move at its moment: a restore of any moment since had the message
     * in Archive, where it never was before the restore.
     */
    async function putBackAfterDeletion(name: string, laterCycle: boolean): Promise<{address: string; between: number; original: string}> {
      const {address, bytes, client, original} = await withMarchMessage(name)
      await expungeFirst(client, 'INBOX')
      await s.scan()
      if (laterCycle) {
        await client.append('INBOX', message('later mail'))
        await s.scan()
      }

      const between = Date.now()
      await client.append('Archive', bytes, [], new Date('2026-03-01T09:00:00Z'))
      await s.scan()
      const revisions = await s.revisions(address, original)
      assert.deepEqual(revisions.map(r => r.deleted), [false, true, false], JSON.stringify(revisions))
      return {address, between, original}
    }

    it('a deleted message put back into another folder after a later cycle (a restore) stays deleted until then', async () => {
      const {address, between, original} = await putBackAfterDeletion('max', true)
      assert.deepEqual(await foldersAt(address, between), ['/INBOX'], 'a restore of the moment between has only the later mail')
      assert.deepEqual((await s.liveItems(address)).map(item => [item.path, item.id === original]).sort(), [['/Archive', true], ['/INBOX', false]])
    })

    it('a deleted message put back into another folder by the very next cycle (a restore) stays deleted until then', async () => {
      // No cycle in between (an idle account): only the UID tells the restore's APPEND from a MOVE's other half.
      const {address, between} = await putBackAfterDeletion('ned', false)
      assert.deepEqual(await foldersAt(address, between), [], 'a restore of the moment between has no message')
    })

    it('the same bytes uploaded again while the original is deleted are a new message, not the original moved', async () => {
      const {address, bytes, client, original} = await withMarchMessage('kim')
      // Archive changed before the cycle lists (it will be read); INBOX did not, and loses the original just after.
      await client.append('Archive', bytes)
      await cycleWith(address, () => expungeFirst(client, 'INBOX'))
      await s.scan()
      assert.equal((await s.revisions(address, original)).at(-1)!.deleted, true, 'the original was deleted, not moved')
      const live = await s.liveItems(address)
      assert.deepEqual(live.map(item => item.path), ['/Archive'])
      assert.notEqual(live[0].id, original)
    })

    it('the same bytes uploaded again in the cycle that sees the deletion are a new message: the deletion stays', async () => {
      const {address, bytes, client, original} = await withMarchMessage('lou')
      // Both before the next cycle: it finds the original gone and identical bytes new, with the internal date of now.
      await expungeFirst(client, 'INBOX')
      await client.append('Archive', bytes)
      const report = await s.scan()
      assert.deepEqual([report.totals.moved, report.totals.created, report.totals.deleted], [0, 1, 1])
      assert.equal((await s.revisions(address, original)).at(-1)!.deleted, true, 'the deletion the user made stays')
      const live = await s.liveItems(address)
      assert.deepEqual(live.map(item => item.path), ['/Archive'])
      assert.notEqual(live[0].id, original)
    })

    it('a COPY stays a copy: the source still holds the message', async () => {
      const {address, moving} = await start()
      const client = await s.client(address)
      await client.append('Archive', message('archived later'))
      await cycleWith(address, async () => {
        const lock = await client.getMailboxLock('INBOX')
        try {
          await client.messageCopy('1', 'Archive', {uid: true})
        } finally {
          lock.release()
        }
      })
      const live = await s.liveItems(address)
      assert.deepEqual(live.map(item => item.path).sort(), ['/Archive', '/Archive', '/Archive', '/INBOX'])
      assert.equal(live.find(item => item.id === moving)?.path, '/INBOX')
    })
  })
}

/** Expunges the message of UID 1 of the mailbox, as another client. */
async function expungeFirst(client: ImapFlow, box: string): Promise<void> {
  const lock = await client.getMailboxLock(box)
  try {
    await client.messageDelete('1', {uid: true})
  } finally {
    lock.release()
  }
}
