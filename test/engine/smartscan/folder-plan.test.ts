import assert from 'node:assert/strict'

import type {ImapAccountPosition} from '../../../src/engine/appserver/imap/imap-position.js'
import type {ServerFolder} from '../../../src/engine/appserver/imap/imap-session.js'
import type {BackupFolder} from '../../../src/engine/smartscan/backup-view.js'

import {planFolders, serverMatchesPosition} from '../../../src/engine/smartscan/folder-plan.js'

function folder(path: string, uidvalidity: null | number): ServerFolder {
  return {
    mailbox: path.slice(1),
    path,
    delimiter: '/',
    specialUse: null,
    selectable: uidvalidity !== null,
    status: uidvalidity === null
      ? null
      : {
        uidvalidity, uidnext: 1, highestmodseq: '1', messages: 0,
      },
  }
}

function position(entries: Record<string, [string, number]>): ImapAccountPosition {
  return {
    folders: Object.fromEntries(Object.entries(entries).map(([id, [path, uidvalidity]]) => [id, {
      path, uidvalidity, uidnext: 1, highestmodseq: '1', messages: 0,
    }])),
  }
}

function catalog(entries: Record<string, [string, string]>): Map<string, BackupFolder> {
  return new Map(Object.entries(entries).map(([id, [path, parent]]) => [id, {
    id, path, parent, metadata: {},
  }]))
}

describe('folder plan', () => {
  it('keeps a renamed folder (same UIDVALIDITY) and its children, re-parenting and renaming as the paths say', () => {
    const plan = planFolders(
      [folder('/INBOX', 10), folder('/Projects', 11), folder('/Projects/2026', 12)],
      position({f10: ['/INBOX', 10], f11: ['/Work', 11], f12: ['/Work/2026', 12]}),
      catalog({f10: ['/INBOX', '1'], f11: ['/Work', '1'], f12: ['/Work/2026', 'f11']}),
    )
    assert.deepEqual(plan.folders.map(f => [f.id, f.server.path, f.parent, f.change]), [
      ['f10', '/INBOX', '1', null],
      ['f11', '/Projects', '1', 'folder.renamed'],
      ['f12', '/Projects/2026', 'f11', 'folder.moved'],
    ])
    assert.deepEqual(plan.gone, [])
  })

  it('keeps a folder renamed while a new mailbox took its old name, and a pair that swapped names, by their UIDVALIDITY', () => {
    const plan = planFolders(
      [folder('/INBOX', 10), folder('/Projects', 90), folder('/Projects 2025', 11), folder('/A', 13), folder('/B', 12)],
      position({
        f10: ['/INBOX', 10], f11: ['/Projects', 11], f12: ['/A', 12], f13: ['/B', 13],
      }),
      catalog({
        f10: ['/INBOX', '1'], f11: ['/Projects', '1'], f12: ['/A', '1'], f13: ['/B', '1'],
      }),
    )
    assert.deepEqual(plan.folders.map(f => [f.id, f.server.path, f.change]), [
      ['f13', '/A', 'folder.renamed'],
      ['f12', '/B', 'folder.renamed'],
      ['f10', '/INBOX', null],
      ['f90', '/Projects', 'folder.created'],
      ['f11', '/Projects 2025', 'folder.renamed'],
    ])
    assert.deepEqual(plan.gone, [])
  })

  it('keeps the folder of a path whose UIDVALIDITY changed, adopts a catalog folder without checkpoint, and lists the gone ones deepest first', () => {
    const plan = planFolders(
      [folder('/inbox', 20), folder('/Archive', 30), folder('/Old/Sub', 40)],
      position({f10: ['/INBOX', 10], f5: ['/Trash', 5], f6: ['/Trash/Deep', 6]}),
      catalog({
        f10: ['/INBOX', '1'], f5: ['/Trash', '1'], f6: ['/Trash/Deep', 'f5'], f30: ['/Archive', '1'],
      }),
    )
    assert.deepEqual(plan.folders.map(f => [f.id, f.change, f.known?.uidvalidity ?? null]), [
      ['f30', null, null],
      ['f10', null, 10],
      ['f40', 'folder.created', null],
    ])
    // '/Old' is no mailbox (\NonExistent): '/Old/Sub' hangs from the root and keeps its whole path.
    assert.equal(plan.folders.find(f => f.id === 'f40')!.parent, '1')
    assert.deepEqual(plan.gone, [{id: 'f6', path: '/Trash/Deep'}, {id: 'f5', path: '/Trash'}])
  })

  it('takes an empty mailbox with a new UIDVALIDITY at a known path for a new folder, one with messages for the old folder, INBOX always for itself', () => {
    const archive = folder('/Archive', 92)
    archive.status!.messages = 2
    const plan = planFolders(
      [folder('/INBOX', 20), folder('/Projects', 91), archive, folder('/Projects/2026', 93)],
      position({f10: ['/INBOX', 10], f11: ['/Projects', 11], f12: ['/Archive', 12]}),
      catalog({f10: ['/INBOX', '1'], f11: ['/Projects', '1'], f12: ['/Archive', '1']}),
    )
    // Deleted with its mail and made again under its name: the old folder is gone, its history ends there.
    assert.deepEqual(plan.folders.map(f => [f.id, f.server.path, f.parent, f.change]), [
      ['f12', '/Archive', '1', null],
      ['f10', '/INBOX', '1', null],
      ['f91', '/Projects', '1', 'folder.created'],
      ['f93', '/Projects/2026', 'f91', 'folder.created'],
    ])
    assert.deepEqual(plan.gone, [{id: 'f11', path: '/Projects'}])
  })

  it(String.raw`gives a new folder an id not taken yet, and a \Noselect parent a folder of its own`, () => {
    const plan = planFolders(
      [folder('/A', null), folder('/A/B', 50)],
      position({}),
      catalog({f50: ['/Elsewhere', '1']}),
    )
    assert.deepEqual(plan.folders.map(f => [f.id, f.server.path, f.parent]), [['f0', '/A', '1'], ['f50.2', '/A/B', 'f0']])
    assert.deepEqual(plan.gone, [{id: 'f50', path: '/Elsewhere'}])
  })

  describe('serverMatchesPosition (the no-change shortcut)', () => {
    const known = position({a: ['/INBOX', 7], b: ['/Sent', 8]})

    it('holds when every mailbox is at its path with its status, and nothing else', () => {
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), folder('/Sent', 8)], known), true)
    })

    it('fails on any change: a status, a new, renamed or vanished mailbox, a recreated one', () => {
      const changed = folder('/Sent', 8)
      changed.status!.highestmodseq = '2'
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), changed], known), false)
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), folder('/Sent', 8), folder('/Drafts', 9)], known), false)
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), folder('/Sent items', 8)], known), false)
      assert.equal(serverMatchesPosition([folder('/INBOX', 7)], known), false)
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), folder('/Sent', 99)], known), false)
      assert.equal(serverMatchesPosition([folder('/INBOX', 7), folder('/INBOX', 7)], position({a: ['/INBOX', 7], b: ['/INBOX', 7]})), false)
    })

    it(String.raw`treats a \Noselect mailbox as statusless, and one that held messages as changed`, () => {
      const parent = {...position({a: ['/Archive', 0]}).folders.a, uidnext: 0, highestmodseq: '0'}
      assert.equal(serverMatchesPosition([folder('/Archive', null)], {folders: {a: parent}}), true)
      assert.equal(serverMatchesPosition([folder('/Archive', null)], {folders: {a: {...parent, messages: 3}}}), false)
    })
  })
})
