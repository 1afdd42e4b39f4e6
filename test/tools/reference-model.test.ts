import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'

import type {Transaction} from '../../src/engine/appserver/transaction.js'

import {type AccountAt, parseRedologLine, ReferenceModel} from '../../src/tools/reference-model.js'

const T0 = Date.parse('2025-03-03T09:00:00Z')
const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'

/** Minute m after T0: hand-written sequences read as a timeline. */
const at = (minute: number): number => T0 + (minute * 60_000)

/** Builds a feed with contiguous seqs; `t` is in minutes after T0. */
class Feed {
  readonly txs: Transaction[] = []

  add<O extends Transaction['op']>(t: number, account: string, op: O, data: Extract<Transaction, {op: O}>['data']): this {
    this.txs.push({
      seq: this.txs.length + 1, time: at(t), account, op, data, origin: {source: 'test'},
    } as Transaction)
    return this
  }

  /** An account with Inbox (2), Trash (3), Inbox/Projects (300) and Inbox/Projects/Alpha (301), all at minute 0. */
  mailbox(account = ALICE, t = 0): this {
    return this.add(t, account, 'account.created', {id: 'id-1', cos: 'default', settings: {locale: 'en'}})
    .add(t, account, 'folder.created', {folder: '2', path: '/Inbox', view: 'message'})
    .add(t, account, 'folder.created', {folder: '3', path: '/Trash', view: 'message'})
    .add(t, account, 'folder.created', {
      folder: '300', parent: '2', path: '/Inbox/Projects', view: 'message',
    })
    .add(t, account, 'folder.created', {
      folder: '301', parent: '300', path: '/Inbox/Projects/Alpha', view: 'message',
    })
  }

  model(): ReferenceModel {
    const model = new ReferenceModel()
    for (const tx of this.txs) model.apply(tx)
    return model
  }
}

function message(item: string, folder: string, digest = item.padStart(64, 'a')): Extract<Transaction, {op: 'item.created'}>['data'] {
  return {
    item, type: 'message', folder, flags: [], tags: [], metadata: {subject: `subject ${item}`}, content: {path: `/store/${digest}`, size: 100, digest},
  }
}

function state(model: ReferenceModel, minute: number, account = ALICE): AccountAt {
  const result = model.stateAt(account, at(minute))
  assert.ok(result, `${account} should be available at minute ${minute}`)
  return result
}

const itemIds = (s: AccountAt): string[] => s.items.map(i => i.id)
const item = (s: AccountAt, id: string) => s.items.find(i => i.id === id)
const folder = (s: AccountAt, id: string) => s.folders.find(f => f.id === id)

describe('reference model', () => {
  it('makes an item exist from its transaction time on (inclusive), and not before', () => {
    const model = new Feed().mailbox().add(10, ALICE, 'item.created', message('400', '2')).model()
    assert.deepEqual(itemIds(state(model, 9.99)), [])
    assert.deepEqual(itemIds(state(model, 10)), ['400'])
    const created = item(state(model, 11), '400')!
    assert.equal(created.type, 'message')
    assert.equal(created.folder, '2')
    assert.equal(created.folderPath, '/Inbox')
    assert.equal(created.digest, '400'.padStart(64, 'a'))
    assert.equal(created.size, 100)
    assert.deepEqual(created.metadata, {subject: 'subject 400'})
    assert.equal(model.stateAt(ALICE, at(-1)), undefined, 'no account before account.created')
    assert.deepEqual(model.anomalies, [])
  })

  it('replaces the whole flag and tag sets, sorted and without duplicates', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', {...message('400', '2'), flags: [String.raw`\Seen`], tags: ['Work']})
    .add(2, ALICE, 'item.flags', {item: '400', flags: [String.raw`\Seen`, String.raw`\Flagged`, '$Forwarded', String.raw`\Seen`]})
    .add(3, ALICE, 'item.tags', {item: '400', tags: ['Zeta', 'Alpha']})
    .add(4, ALICE, 'item.flags', {item: '400', flags: [String.raw`\Answered`]})
    .add(5, ALICE, 'item.tags', {item: '400', tags: []})
    .model()
    assert.deepEqual(item(state(model, 1), '400')!.flags, [String.raw`\Seen`])
    assert.deepEqual(item(state(model, 2), '400')!.flags, ['$Forwarded', String.raw`\Flagged`, String.raw`\Seen`])
    assert.deepEqual(item(state(model, 2), '400')!.tags, ['Work'])
    assert.deepEqual(item(state(model, 3), '400')!.tags, ['Alpha', 'Zeta'])
    assert.deepEqual(item(state(model, 4), '400')!.flags, [String.raw`\Answered`], 'not merged with the earlier set')
    assert.deepEqual(item(state(model, 5), '400')!.tags, [])
    assert.deepEqual(item(state(model, 5), '400')!.flags, [String.raw`\Answered`], 'a tag change keeps the flags')
  })

  it('moves an item to another folder from that time on', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(5, ALICE, 'item.moved', {item: '400', folder: '301'})
    .model()
    assert.equal(item(state(model, 4), '400')!.folderPath, '/Inbox')
    assert.equal(item(state(model, 5), '400')!.folder, '301')
    assert.equal(item(state(model, 5), '400')!.folderPath, '/Inbox/Projects/Alpha')
  })

  it("copies an item as a new one with the source's content, metadata, flags and tags in the given folder", () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', {...message('400', '2'), flags: [String.raw`\Seen`], tags: ['Work']})
    .add(2, ALICE, 'item.copied', {item: '401', source: '400', folder: '300'})
    .add(3, ALICE, 'item.copied', {
      item: '402', source: '400', folder: '3', flags: [], tags: ['Later'],
    })
    .add(4, ALICE, 'item.modified', {item: '400', metadata: {subject: 'changed'}, content: {digest: 'b'.repeat(64), size: 7}})
    .add(4, ALICE, 'item.copied', {item: '403', source: '401', content: {digest: 'c'.repeat(64), size: 1}} as any)
    .model()
    const s = state(model, 4)
    assert.deepEqual(itemIds(s), ['400', '401', '402', '403'])
    assert.equal(item(s, '403')!.digest, '400'.padStart(64, 'a'), 'a content in an item.copied line is not read')
    assert.equal(item(s, '403')!.folder, '300', "without folder, the copy lands in its source's folder")
    const copy = item(s, '401')!
    assert.equal(copy.folder, '300')
    assert.equal(copy.type, 'message')
    assert.equal(copy.digest, '400'.padStart(64, 'a'), 'the copy keeps the content it was made with')
    assert.deepEqual(copy.metadata, {subject: 'subject 400'})
    assert.deepEqual(copy.flags, [String.raw`\Seen`])
    assert.deepEqual(copy.tags, ['Work'])
    assert.deepEqual(item(s, '402')!.flags, [], 'flags carried by the copy win')
    assert.deepEqual(item(s, '402')!.tags, ['Later'])
    assert.equal(item(s, '400')!.digest, 'b'.repeat(64))
    assert.deepEqual(itemIds(state(model, 1.5)), ['400'], 'no copy before its time')
  })

  it('modifies only what item.modified carries', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', {...message('400', '2'), flags: [String.raw`\Draft`], tags: ['Work']})
    .add(2, ALICE, 'item.modified', {item: '400', content: {digest: 'c'.repeat(64), size: 42}})
    .add(3, ALICE, 'item.modified', {item: '400', metadata: {subject: 'v3'}})
    .add(4, ALICE, 'item.modified', {item: '400', flags: [String.raw`\Seen`], tags: ['Home']})
    .add(5, ALICE, 'item.modified', {item: '400', folder: '300'})
    .model()
    const v1 = item(state(model, 1), '400')!
    const v2 = item(state(model, 2), '400')!
    const v3 = item(state(model, 3), '400')!
    const v4 = item(state(model, 4), '400')!
    const v5 = item(state(model, 5), '400')!
    assert.equal(v2.digest, 'c'.repeat(64))
    assert.equal(v2.size, 42)
    assert.deepEqual(v2.metadata, v1.metadata)
    assert.deepEqual(v2.flags, [String.raw`\Draft`])
    assert.deepEqual(v3.metadata, {subject: 'v3'})
    assert.equal(v3.digest, 'c'.repeat(64))
    assert.deepEqual([v4.flags, v4.tags], [[String.raw`\Seen`], ['Home']])
    assert.deepEqual(v4.metadata, {subject: 'v3'})
    assert.equal(v5.folder, '300')
    assert.deepEqual(v5.tags, ['Home'])
  })

  it('deletes an item from its deletion time on, and later changes to it are refused', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(3, ALICE, 'item.deleted', {item: '400'})
    .add(4, ALICE, 'item.flags', {item: '400', flags: [String.raw`\Seen`]})
    .model()
    assert.deepEqual(itemIds(state(model, 2.99)), ['400'])
    assert.deepEqual(itemIds(state(model, 3)), [])
    assert.deepEqual(itemIds(state(model, 5)), [])
    assert.deepEqual(model.anomalies.map(a => [a.seq, a.reason]), [[8, 'item.flags for item 400, which is not known']])
  })

  it('empties a folder and its subfolders at that time, keeping the folders and sparing everything else', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '300'))
    .add(1, ALICE, 'item.created', message('401', '301'))
    .add(1, ALICE, 'item.created', message('402', '2'))
    .add(1, ALICE, 'item.created', message('403', '300'))
    .add(2, ALICE, 'item.moved', {item: '403', folder: '3'})
    .add(3, ALICE, 'item.created', message('404', '3'))
    .add(3, ALICE, 'item.moved', {item: '404', folder: '301'})
    .add(5, ALICE, 'folder.emptied', {folder: '300'})
    .add(6, ALICE, 'item.created', message('405', '301'))
    .model()
    assert.deepEqual(itemIds(state(model, 4)), ['400', '401', '402', '403', '404'])
    const after = state(model, 5)
    assert.deepEqual(itemIds(after), ['402', '403'], 'the items of /Inbox/Projects and /Inbox/Projects/Alpha are gone')
    assert.deepEqual(
      after.folders.filter(f => !f.deleted).map(f => f.path),
      ['/Inbox', '/Trash', '/Inbox/Projects', '/Inbox/Projects/Alpha'],
    )
    assert.deepEqual(itemIds(state(model, 6)), ['402', '403', '405'], 'a later arrival in an emptied folder stays')
    assert.deepEqual(model.anomalies, [])
  })

  it('deletes a folder with its subfolders and their items; what later lands in them is applied and reported', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '300'))
    .add(1, ALICE, 'item.created', message('401', '301'))
    .add(1, ALICE, 'item.created', message('402', '2'))
    .add(5, ALICE, 'folder.deleted', {folder: '300'})
    .add(6, ALICE, 'folder.renamed', {folder: '300', path: '/Inbox/Back'})
    .add(7, ALICE, 'item.created', message('403', '301'))
    .add(7, ALICE, 'item.moved', {item: '402', folder: '300'})
    .add(7, ALICE, 'folder.created', {folder: '302', parent: '301', path: '/Inbox/Projects/Alpha/Beta'})
    .model()
    const before = state(model, 4)
    assert.deepEqual(before.folders.map(f => [f.id, f.deleted]), [['2', false], ['3', false], ['300', false], ['301', false]])
    const after = state(model, 6)
    assert.deepEqual(after.folders.map(f => [f.id, f.path, f.deleted]), [
      ['2', '/Inbox', false],
      ['3', '/Trash', false],
      ['300', '/Inbox/Projects', true],
      ['301', '/Inbox/Projects/Alpha', true],
    ], 'a rename of a deleted folder changes nothing')
    assert.deepEqual(itemIds(after), ['402'])
    // The scanner keeps what the server says even when it contradicts what it knows, and reports it.
    const later = state(model, 7)
    assert.deepEqual(itemIds(later), ['402', '403'])
    assert.equal(item(later, '402')!.folder, '300')
    assert.equal(item(later, '403')!.folderPath, '/Inbox/Projects/Alpha')
    assert.deepEqual(folder(later, '302'), {
      id: '302', path: '/Inbox/Projects/Alpha/Beta', parent: '301', metadata: {}, deleted: false,
    })
    assert.deepEqual(model.anomalies.map(a => a.reason), [
      'folder.renamed for folder 300, which was deleted',
      'folder 301 is not a live folder',
      'folder 300 is not a live folder',
      'parent folder 301 was deleted',
    ])
  })

  it('renames and moves folders, and their subfolders follow, from that time on', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '301'))
    .add(2, ALICE, 'folder.renamed', {folder: '300', path: '/Inbox/Clients'})
    .add(3, ALICE, 'folder.moved', {folder: '300', parent: '3', path: '/Trash/Clients'})
    .add(4, ALICE, 'folder.moved', {folder: '301', path: '/Alpha2', metadata: {color: 'red'}})
    .add(5, ALICE, 'folder.moved', {folder: '300', parent: '300', path: '/Trash/Clients/Clients'})
    .add(6, ALICE, 'folder.moved', {folder: '300', parent: '301', path: '/Trash/Clients/Alpha2/Clients'})
    .add(7, ALICE, 'folder.renamed', {folder: '301', metadata: {icon: 'star'}})
    .model()
    assert.equal(folder(state(model, 1), '301')!.path, '/Inbox/Projects/Alpha')
    assert.equal(folder(state(model, 2), '301')!.path, '/Inbox/Clients/Alpha')
    assert.equal(folder(state(model, 2), '300')!.parent, '2', 'a rename without parent keeps the parent')
    assert.equal(item(state(model, 3), '400')!.folderPath, '/Trash/Clients/Alpha')
    const moved = folder(state(model, 4), '301')!
    assert.equal(moved.parent, '300', 'a move without parent keeps the parent (fields left out keep their values)')
    assert.equal(moved.path, '/Trash/Clients/Alpha2', 'the name is the last segment of the path given')
    assert.equal(folder(state(model, 5), '300')!.path, '/Trash/Clients', 'a move under itself changes nothing')
    assert.equal(folder(state(model, 6), '300')!.path, '/Trash/Clients', 'nor under its own subfolder')
    assert.deepEqual(folder(state(model, 7), '301')!, {
      id: '301', path: '/Trash/Clients/Alpha2', parent: '300', view: 'message', metadata: {color: 'red', icon: 'star'}, deleted: false,
    }, 'metadata keys merge; a change without path keeps the name')
    assert.deepEqual(model.anomalies.map(a => a.reason), [
      'folder 300 cannot move under itself (300)',
      'folder 300 cannot move under itself (301)',
    ])
  })

  it("keeps the server's path for a folder whose parent is not a folder it knows (Carbonio's root)", () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'folder.created', {
      folder: '310', parent: '1', path: '/Projects', view: 'message',
    })
    .add(1, ALICE, 'folder.created', {folder: '311', parent: '310', path: '/Projects/Acme'})
    .add(2, ALICE, 'folder.renamed', {folder: '310', path: '/Clients'})
    .add(3, ALICE, 'item.created', message('400', '311'))
    .add(4, ALICE, 'folder.emptied', {folder: '1'})
    .model()
    assert.equal(folder(state(model, 1), '311')!.path, '/Projects/Acme')
    assert.equal(folder(state(model, 2), '311')!.path, '/Clients/Acme')
    assert.equal(item(state(model, 3), '400')!.folderPath, '/Clients/Acme')
    assert.deepEqual(itemIds(state(model, 4)), [], 'emptying the root empties what hangs under it')
    assert.deepEqual(model.anomalies.map(a => a.reason), ['folder.emptied for folder 1, which is not live'])
  })

  it('makes a deleted account unavailable from that time on; the name can come back as a new, empty account', () => {
    const model = new Feed()
    .mailbox()
    .mailbox(BOB)
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(5, ALICE, 'account.deleted', {})
    .add(6, ALICE, 'item.created', message('401', '2'))
    .add(8, ALICE, 'account.created', {id: 'id-2'})
    .model()
    assert.deepEqual(model.accountsAt(at(4)), [ALICE, BOB])
    assert.deepEqual(itemIds(state(model, 4)), ['400'])
    assert.equal(model.stateAt(ALICE, at(5)), undefined)
    assert.equal(model.stateAt(ALICE, at(7)), undefined, 'a line for a deleted account does not bring it back')
    assert.deepEqual(model.accountsAt(at(5)), [BOB])
    assert.deepEqual(model.accountsAt(at(-1)), [])
    const reborn = state(model, 8)
    assert.equal(reborn.id, 'id-2')
    assert.deepEqual([reborn.items, reborn.folders], [[], []])
    assert.equal(state(model, 4).id, 'id-1', 'the earlier account is still there at earlier times')
    assert.deepEqual(model.anomalies.map(a => a.reason), [`account ${ALICE} was deleted`])
  })

  it('renames an account: its history answers to the old name before and to the new name after', () => {
    const carol = 'carol@example.org'
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(5, ALICE, 'account.renamed', {name: carol})
    .add(6, carol, 'item.created', message('401', '2'))
    .add(7, carol, 'account.renamed', {name: BOB})
    .model()
    assert.deepEqual(itemIds(state(model, 4)), ['400'])
    assert.equal(model.stateAt(carol, at(4)), undefined)
    assert.equal(model.stateAt(ALICE, at(5)), undefined)
    assert.deepEqual(itemIds(state(model, 6, carol)), ['400', '401'])
    assert.equal(state(model, 6, carol).account, carol)
    assert.deepEqual(model.accountsAt(at(6)), [carol])
    assert.deepEqual(model.accountsAt(at(7)), [BOB])
    assert.deepEqual(itemIds(state(model, 8, BOB)), ['400', '401'])
    assert.deepEqual(model.anomalies, [])
  })

  it('refuses to rename an account to an address in use', () => {
    const model = new Feed().mailbox().mailbox(BOB).add(5, ALICE, 'account.renamed', {name: BOB}).model()
    assert.deepEqual(model.accountsAt(at(6)), [ALICE, BOB])
    assert.deepEqual(model.anomalies.map(a => a.reason), [`cannot rename to ${BOB}: that account already exists`])
  })

  it('merges account settings on account.modified (null removes one) and replaces cos and id', () => {
    const model = new Feed()
    .mailbox()
    .add(2, ALICE, 'account.modified', {settings: {locale: 'it', quota: 5}})
    .add(3, ALICE, 'account.modified', {cos: 'premium'})
    .add(4, ALICE, 'account.modified', {settings: {locale: null, theme: 'dark'} as any, id: 'id-9'})
    .model()
    assert.deepEqual([state(model, 1).settings, state(model, 1).cos], [{locale: 'en'}, 'default'])
    assert.deepEqual([state(model, 2).settings, state(model, 2).cos], [{locale: 'it', quota: 5}, 'default'])
    assert.deepEqual([state(model, 3).settings, state(model, 3).cos], [{locale: 'it', quota: 5}, 'premium'])
    assert.deepEqual([state(model, 4).settings, state(model, 4).cos, state(model, 4).id], [{quota: 5, theme: 'dark'}, 'premium', 'id-9'])
  })

  it('changes nothing for changes to items that are not live, and says why', () => {
    const reference = new Feed().mailbox().add(1, ALICE, 'item.created', message('400', '2')).model()
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(2, ALICE, 'item.moved', {item: '999', folder: '2'})
    .add(2, ALICE, 'item.copied', {item: '402', source: '999', folder: '2'})
    .add(2, ALICE, 'item.tags', {item: '999', tags: ['x']})
    .add(2, ALICE, 'item.flags', {item: '999', flags: ['x']})
    .add(2, ALICE, 'item.modified', {item: '999', metadata: {}})
    .add(2, ALICE, 'item.deleted', {item: '999'})
    .add(2, ALICE, 'folder.emptied', {folder: '999'})
    .add(2, ALICE, 'folder.deleted', {folder: '999'})
    .add(2, ALICE, 'account.created', {})
    .add(2, ALICE, 'item.created', {item: '403', folder: '2'} as any)
    .add(2, ALICE, 'item.flags', {flags: [String.raw`\Seen`]} as any)
    .model()
    assert.deepEqual(state(model, 3), state(reference, 3))
    assert.deepEqual(model.anomalies.map(a => a.reason), [
      'item.moved for item 999, which is not known',
      'item.copied from item 999, which is not known',
      'item.tags for item 999, which is not known',
      'item.flags for item 999, which is not known',
      'item.modified for item 999, which is not known',
      'item.deleted for item 999, which is not known',
      'folder.emptied for folder 999, which is not live',
      'folder.deleted for folder 999, which is not live',
      'account already exists',
      'bad item type undefined',
      'no item',
    ])
    assert.equal(model.anomalyCount, 11)
  })

  it('applies, and reports, lines about an account, folder or item it has not seen', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', {...message('400', '2'), flags: [String.raw`\Seen`], tags: ['Work']})
    .add(2, BOB, 'item.created', message('500', '2'))
    .add(2, ALICE, 'item.created', message('401', '999'))
    .add(2, ALICE, 'item.created', {
      item: '400', type: 'message', folder: '3', flags: null, metadata: {subject: 'again'},
    } as any)
    .add(2, ALICE, 'folder.renamed', {folder: '998', path: '/Found'})
    .add(2, ALICE, 'folder.created', {folder: '2', path: '/Inbox', metadata: {color: 'red'}})
    .model()
    assert.deepEqual(model.accountsAt(at(2)), [ALICE, BOB], 'bob is discovered by his first line')
    assert.deepEqual(model.accountsAt(at(1)), [ALICE])
    assert.deepEqual(state(model, 2, BOB).items.map(i => [i.id, i.folderPath]), [['500', '/2']])
    const alice = state(model, 2)
    assert.equal(item(alice, '401')!.folderPath, '/999')
    const again = item(alice, '400')!
    assert.deepEqual([again.folder, again.flags, again.tags, again.metadata, again.digest], ['3', [], [], {subject: 'again'}, undefined], 'created again: every field anew')
    assert.equal(folder(alice, '998')!.path, '/Found')
    assert.deepEqual(folder(alice, '2')!.metadata, {color: 'red'})
    assert.equal(folder(alice, '2')!.view, 'message', 'a field left out keeps its value')
    assert.deepEqual(model.anomalies.map(a => [a.account, a.reason]), [
      [BOB, 'first transaction for this account was item.created, not account.created'],
      [BOB, 'folder 2 is not a live folder'],
      [ALICE, 'folder 999 is not a live folder'],
      [ALICE, 'item 400 exists already: recorded as a new state'],
      [ALICE, 'folder.renamed for folder 998, which is not known: recorded'],
      [ALICE, 'folder 2 already exists'],
    ])
  })

  it('lets the later of two transactions in the same millisecond win', () => {
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', message('400', '2'))
    .add(1, ALICE, 'item.flags', {item: '400', flags: [String.raw`\Seen`]})
    .add(2, ALICE, 'item.created', message('401', '2'))
    .add(2, ALICE, 'item.deleted', {item: '401'})
    .model()
    assert.deepEqual(item(state(model, 1), '400')!.flags, [String.raw`\Seen`])
    assert.deepEqual(itemIds(state(model, 2)), ['400'])
  })

  it('ignores a repeated seq, reports a gap, and never starts a state before the one it replaces', () => {
    const model = new ReferenceModel()
    const feed = new Feed().mailbox().add(1, ALICE, 'item.created', message('400', '2'))
    for (const tx of feed.txs) model.apply(tx)
    model.apply({...feed.txs.at(-1)!, data: message('400', '2')} as Transaction)
    assert.equal(model.anomalies.length, 1)
    assert.match(model.anomalies[0].reason, /seq 6 already applied/)
    model.apply({
      seq: 9, time: at(3), account: ALICE, op: 'item.flags', data: {item: '400', flags: [String.raw`\Seen`]}, origin: {source: 'x'},
    })
    assert.match(model.anomalies[1].reason, /seq gap: 6 then 9/)
    assert.deepEqual(item(state(model, 3), '400')!.flags, [String.raw`\Seen`], 'a gap is reported but applied')
    model.apply({
      seq: 10, time: at(2), account: ALICE, op: 'item.flags', data: {item: '400', flags: [String.raw`\Flagged`]}, origin: {source: 'x'},
    })
    assert.deepEqual(item(state(model, 2.5), '400')!.flags, [], 'an earlier time starts the state with the one it replaces')
    assert.deepEqual(item(state(model, 3), '400')!.flags, [String.raw`\Flagged`])
    // Another item is not held back by the first one's times: it starts when its line says.
    model.apply({
      seq: 11, time: at(2), account: ALICE, op: 'item.created', data: message('401', '2'), origin: {source: 'x'},
    })
    assert.deepEqual(itemIds(state(model, 2)), ['400', '401'])
    assert.equal(model.anomalies.length, 2, 'times going back are not an anomaly')
    assert.equal(model.lastSeq, 11)
    assert.equal(model.transactions, 10)
    assert.deepEqual([model.firstTime, model.lastTime], [at(0), at(3)])
  })

  it('computes digest and size of inline content that does not carry them', () => {
    const bytes = Buffer.from('BEGIN:VCARD\r\nFN:Bob\r\nEND:VCARD\r\n')
    const model = new Feed()
    .mailbox()
    .add(1, ALICE, 'item.created', {
      item: '400', type: 'contact', folder: '2', content: {inline: bytes.toString('base64')},
    })
    .model()
    const contact = item(state(model, 1), '400')!
    assert.equal(contact.digest, createHash('sha256').update(bytes).digest('hex'))
    assert.equal(contact.size, bytes.length)
    assert.deepEqual([contact.flags, contact.tags, contact.metadata], [[], [], {}])
  })

  it('reads redolog lines: times with a zone or in ms, and refuses bad lines with file and line', () => {
    const origin = {source: 'redo-1.log', line: 7}
    const line = (time: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        v: 1, seq: 1, time, account: ALICE, op: 'item.deleted', data: {item: '1'}, ...extra,
      })
    assert.equal(parseRedologLine(line('2025-03-03T11:00:00+02:00'), origin).time, T0)
    assert.equal(parseRedologLine(line('2025-03-03T09:00:00.000Z'), origin).time, T0)
    assert.equal(parseRedologLine(line(T0), origin).time, T0)
    assert.equal(parseRedologLine(line('2025-03-03T11:00+02'), origin).time, T0, 'seconds optional, zone ±HH')
    assert.equal(parseRedologLine(line('2025-03-03T08:00:00.123456789-0100'), origin).time, T0 + 123, 'up to 9 digits, zone ±HHMM')
    for (const bad of ['2025-03-03T09:00:00', '2025-02-30T09:00:00Z', '2025-03-03 09:00:00Z', '2025-03-03T24:00:00Z', -1, 1.5]) {
      assert.throws(() => parseRedologLine(line(bad), origin), /redo-1\.log:7: bad time/, String(bad))
    }

    const parsed = parseRedologLine(line(T0), origin)
    assert.deepEqual(parsed, {
      seq: 1, time: T0, account: ALICE, op: 'item.deleted', data: {item: '1'}, origin,
    })
    assert.throws(() => parseRedologLine(line(T0, {v: 2}), origin), /unsupported version 2/)
    assert.throws(() => parseRedologLine(line(T0, {op: 'item.exploded'}), origin), /unknown op "item.exploded"/)
    assert.throws(() => parseRedologLine(line(T0, {data: []}), origin), /data is not an object/)
    assert.throws(() => parseRedologLine(line(T0, {seq: 1.5}), origin), /bad seq/)
    assert.throws(() => parseRedologLine('{"v":1', origin), /not JSON/)
    const model = new ReferenceModel()
    model.applyLine(line(T0, {account: ALICE, op: 'account.created', data: {}}), origin)
    model.applyLine('nope', origin)
    model.applyLine(line('yesterday', {seq: 2}), origin)
    model.applyLine(line(T0, {seq: 3, op: 'account.deleted', data: {}}), origin)
    assert.deepEqual(model.anomalies.map(a => a.reason), [
      'redo-1.log:7: not JSON',
      'redo-1.log:7: bad time "yesterday" (ISO 8601 with a zone, or ms)',
    ], 'a bad line with a readable seq uses it up: no gap before seq 3')
    assert.deepEqual(model.accountsAt(T0), [])
  })

  it('answers at any time what replaying only the transactions up to that time gives', () => {
    // A dense hand-made history: the timelines of the full model must agree with a model that never saw the future.
    const feed = new Feed().mailbox()
    let t = 1
    for (let i = 0; i < 40; i++) {
      const id = String(400 + i)
      feed.add(t++, ALICE, 'item.created', message(id, i % 3 === 0 ? '301' : '2'))
      if (i % 2 === 0) feed.add(t, ALICE, 'item.flags', {item: id, flags: [String.raw`\Seen`]})
      if (i % 5 === 0) feed.add(t++, ALICE, 'item.moved', {item: id, folder: '300'})
      if (i % 7 === 0) feed.add(t++, ALICE, 'item.copied', {item: String(900 + i), source: id, folder: '3'})
      if (i % 11 === 10) feed.add(t++, ALICE, 'folder.emptied', {folder: '300'})
      if (i === 25) feed.add(t++, ALICE, 'folder.renamed', {folder: '300', path: '/Inbox/Renamed'})
      if (i % 4 === 3) feed.add(t++, ALICE, 'item.deleted', {item: String(400 + i - 1)})
    }

    const full = feed.model()
    let nonEmpty = 0
    for (let minute = 0; minute <= t; minute += 0.5) {
      const prefix = new ReferenceModel()
      for (const tx of feed.txs) if (tx.time <= at(minute)) prefix.apply(tx)
      const expected = prefix.stateAt(ALICE, at(minute))
      assert.deepEqual(full.stateAt(ALICE, at(minute)), expected, `minute ${minute}`)
      if (expected && expected.items.length > 0) nonEmpty++
    }

    assert.ok(nonEmpty > 50, `the comparison covered states with items (${nonEmpty})`)
  })
})
