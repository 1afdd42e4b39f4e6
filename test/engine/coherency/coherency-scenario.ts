import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'
import type {CoherencyOptions, CoherencyReport} from '../../../src/engine/coherency/coherency-check.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {coherencyCheck} from '../../../src/engine/coherency/coherency-check.js'
import {runScanner} from '../../../src/engine/scanner/realtime-scanner.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'

export const ALICE = 'alice@example.com'
export const BOB = 'bob@example.com'
export const T0 = Date.parse('2026-11-01T10:00:00.000Z')
export const MINUTE = 60_000

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

/** A message of `size` bytes: headers, then text and random bytes (so every one is a distinct blob). */
function message(subject: string, size: number): Buffer {
  const head = Buffer.from(`Message-ID: <${subject}@example.com>\r\nSubject: ${subject}\r\n\r\n`)
  const text = Buffer.from('The quick brown fox jumps over the lazy dog.\r\n'.repeat(Math.ceil(size / 46)))
  return Buffer.concat([head, text, randomBytes(64)]).subarray(0, Math.max(size, head.length + 64))
}

export interface CoherencyScenario {
  /** Every content stored in the backup, by digest, with the items (account, item id) that reference it. */
  stored: Map<string, {content: Buffer; items: Array<{account: string; item: string}>}>
  /** Items and folders the scanner records. */
  items: number
  folders: number
}

/**
 * A small backup filled by the Realtime Scanner from a hand-written redolog, with what a real one holds: content
 * in files and inline, one content shared by two items of one account and an item of another account, a message
 * whose content was gone on the AppServer (a blob row not stored, content missing), a contact without content, and
 * items flagged, moved and deleted (several revisions each).
 *
 *   alice: folders 2 /Inbox, 5 /Archive, 7 /Contacts
 *     101 message A (file)   102 message B (inline)   103 message C (file), flagged, moved to 5
 *     104 copied from 101 into 5 (A)   105 message whose content is gone   106 contact, no content
 *     107 message D (file), deleted
 *   bob: folder 2 /Inbox; 201 message A (file, the same bytes as alice's 101); 202 message E (file); 203 message F
 */
export function writeCoherencyScenario(home: string): {log: RedologWriter; scenario: CoherencyScenario} {
  const log = new RedologWriter(path.join(home, 'appserver', 'redolog'))
  const store = path.join(home, 'appserver', 'store')
  mkdirSync(store, {recursive: true})
  const stored: CoherencyScenario['stored'] = new Map()
  const reference = (content: Buffer, account: string, item: string) => {
    const digest = sha256(content)
    const entry = stored.get(digest) ?? {content, items: []}
    entry.items.push({account, item})
    stored.set(digest, entry)
  }

  const file = (content: Buffer, account: string, item: string) => {
    const name = path.join(store, `${account}-${item}.msg`)
    writeFileSync(name, content)
    reference(content, account, item)
    return {path: name, size: content.length, digest: sha256(content)}
  }

  const inline = (content: Buffer, account: string, item: string) => {
    reference(content, account, item)
    return {inline: content.toString('base64'), size: content.length, digest: sha256(content)}
  }

  const m = (n: number) => T0 + (n * MINUTE)
  const a = message('a', 20_000)
  log.write(ALICE, 'account.created', {}, T0)
  log.write(ALICE, 'folder.created', {folder: '2', path: '/Inbox', view: 'message'}, T0)
  log.write(ALICE, 'folder.created', {folder: '5', path: '/Archive', view: 'message'}, T0)
  log.write(ALICE, 'folder.created', {folder: '7', path: '/Contacts', view: 'contact'}, T0)
  log.write(ALICE, 'item.created', {
    item: '101', type: 'message', folder: '2', content: file(a, ALICE, '101'),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '102', type: 'message', folder: '2', content: inline(message('b', 3000), ALICE, '102'),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '103', type: 'message', folder: '2', content: file(message('c', 9000), ALICE, '103'),
  }, m(1))
  log.write(ALICE, 'item.flags', {item: '103', flags: [String.raw`\Seen`]}, m(2))
  log.write(ALICE, 'item.moved', {item: '103', folder: '5'}, m(3))
  log.write(ALICE, 'item.copied', {item: '104', source: '101', folder: '5'}, m(3))
  reference(a, ALICE, '104')
  log.write(ALICE, 'item.created', {
    item: '105', type: 'message', folder: '2', content: {path: path.join(store, 'vanished.msg'), size: 10, digest: 'e'.repeat(64)},
  }, m(4))
  log.write(ALICE, 'item.created', {
    item: '106', type: 'contact', folder: '7', metadata: {email: 'zoe@example.org'},
  }, m(4))
  log.write(ALICE, 'item.created', {
    item: '107', type: 'message', folder: '2', content: file(message('d', 15_000), ALICE, '107'),
  }, m(5))
  log.write(ALICE, 'item.deleted', {item: '107'}, m(6))

  log.write(BOB, 'account.created', {}, T0)
  log.write(BOB, 'folder.created', {folder: '2', path: '/Inbox', view: 'message'}, T0)
  log.write(BOB, 'item.created', {
    item: '201', type: 'message', folder: '2', content: file(a, BOB, '201'),
  }, m(2))
  log.write(BOB, 'item.created', {
    item: '202', type: 'message', folder: '2', content: file(message('e', 40_000), BOB, '202'),
  }, m(2))
  log.write(BOB, 'item.created', {
    item: '203', type: 'message', folder: '2', content: file(message('f', 5000), BOB, '203'),
  }, m(3))
  log.write(BOB, 'item.flags', {item: '203', flags: [String.raw`\Flagged`]}, m(4))
  return {log, scenario: {stored, items: 10, folders: 4}}
}

export async function catchUp(catalog: Catalog, log: RedologWriter): Promise<void> {
  const totals = await runScanner({
    catalog, server: 'mail1', feed: new RedologFeed(log.dir, {follow: false}), signal: new AbortController().signal,
  })
  if (totals.errors !== 1) throw new Error(`the scenario records exactly one problem (item 105's content is gone), not ${totals.errors}`)
}

/** Runs the check as the operation runner would, collecting its progress events. */
export async function check(
  catalog: Catalog,
  options: CoherencyOptions = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<{events: ProgressEvent[]; report: CoherencyReport}> {
  const events: ProgressEvent[] = []
  const report = await coherencyCheck({
    catalog, uuid: 'test', server: 'mail1', signal, progress: event => events.push(event),
  }, options)
  return {events, report}
}
