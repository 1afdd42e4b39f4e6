import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Catalog} from '../../src/engine/catalog/catalog.js'

import {RedologFeed} from '../../src/engine/appserver/redolog/redolog-feed.js'
import {runScanner} from '../../src/engine/scanner/realtime-scanner.js'
import {RedologWriter} from './redolog-writer.js'
import {type Dialect, openTestCatalog, type TestCatalog} from './test-catalog.js'

/**
 * A hand-written mailbox history for the readers and the export: every kind of change at known times, so that the
 * state at any moment is known without running the code under test.
 *
 * alice@example.com (T0 = 2026-11-01T10:00:00Z, m = one minute)
 *   T0     account created; folders 2 /Inbox, 5 /Archive, 20 /Projects, 21 /Projects/Sub (parent 20), 7 /Contacts
 *   T0+1m  257 message in 2 ("Lunch?")            258 message in 21, \Seen ("Quarterly report")
 *          300 contact in 7 (ZOË Müller)           301 message in 2, \Answered \Draft $Forwarded ('He said "hi"')
 *          302 message in 2 ("100% done")
 *   T0+90s 303 copied from 257 into 5
 *   T0+2m  257 flags \Seen \Flagged
 *   T0+3m  257 moved to 5
 *   T0+4m  folder 20 renamed /Clients (so 21 is /Clients/Sub from then on)
 *   T0+5m  folder 21 emptied: 258 deleted, the account becomes uncertain
 *   T0+6m  259 message in 2 whose content is gone on the AppServer
 *   T0+7m  257 deleted
 *   T0+8m  304 appointment in 10 (Carbonio's Calendar, never announced), metadata only
 * bob@example.com: created at T0, 1 message in 2 at T0+1m, account deleted at T0+10m
 * carol@example.com: created at T0, deleted at T0+1m, created again at T0+2m (a new account), contact 1 at T0+3m
 */
export const ALICE = 'alice@example.com'
export const BOB = 'bob@example.com'
export const CAROL = 'carol@example.com'
export const T0 = Date.parse('2026-11-01T10:00:00.000Z')
export const MINUTE = 60_000

export interface Scenario {
  log: RedologWriter
  contents: {lunch: Buffer; report: Buffer; vcard: Buffer; quote: Buffer; percent: Buffer; bob: Buffer}
  /** seq of some lines, by a name used in the tests. */
  seqs: Record<string, number>
  lastTime: number
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

/** A message with CRLF line ends and 8-bit bytes: what an exact copy must keep. */
function message(subject: string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`Message-ID: <${sha256(Buffer.from(subject)).slice(0, 12)}@example.com>\r\nSubject: ${subject}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')])
}

export function writeScenario(home: string): Scenario {
  const log = new RedologWriter(path.join(home, 'appserver', 'redolog'))
  const store = path.join(home, 'appserver', 'store')
  mkdirSync(store, {recursive: true})
  const stored = (name: string, content: Buffer) => {
    const file = path.join(store, name)
    writeFileSync(file, content)
    return {path: file, size: content.length, digest: sha256(content)}
  }

  const inline = (content: Buffer) => ({inline: content.toString('base64'), size: content.length, digest: sha256(content)})
  const contents = {
    lunch: message('Lunch?', Buffer.from([0x43, 0x61, 0x66, 0xE9, 0x20, 0x00, 0xFF, 0x0D, 0x0A, 0x2E])),
    report: message('Quarterly report', 'x'.repeat(5000)),
    vcard: Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:ZOË Müller\r\nEMAIL:zoe@example.org\r\nEND:VCARD\r\n'),
    quote: message('He said "hi"', 'hi'),
    percent: message('100% done', 'done'),
    bob: message('From Bob', 'bob'),
  }
  const seqs: Record<string, number> = {}
  const m = (n: number) => T0 + (n * MINUTE)
  log.write(ALICE, 'account.created', {id: '7f3c2a10-alice', cos: 'default', settings: {displayName: 'Alice'}}, T0)
  log.write(ALICE, 'folder.created', {
    folder: '2', parent: '1', path: '/Inbox', view: 'message',
  }, T0)
  log.write(ALICE, 'folder.created', {
    folder: '5', parent: '1', path: '/Archive', view: 'message',
  }, T0)
  log.write(ALICE, 'folder.created', {
    folder: '20', parent: '1', path: '/Projects', view: 'message',
  }, T0)
  log.write(ALICE, 'folder.created', {
    folder: '21', parent: '20', path: '/Projects/Sub', view: 'message',
  }, T0)
  log.write(ALICE, 'folder.created', {
    folder: '7', parent: '1', path: '/Contacts', view: 'contact',
  }, T0)
  seqs.create257 = log.write(ALICE, 'item.created', {
    item: '257', type: 'message', folder: '2', metadata: {subject: 'Lunch?', from: 'bob@example.com'}, content: stored('257.msg', contents.lunch),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '258', type: 'message', folder: '21', flags: [String.raw`\Seen`], metadata: {subject: 'Quarterly report', from: 'carol@example.com'}, content: inline(contents.report),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '300', type: 'contact', folder: '7', metadata: {firstName: 'ZOË', lastName: 'Müller', email: 'zoe@example.org'}, content: inline(contents.vcard),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '301', type: 'message', folder: '2', flags: [String.raw`\Answered`, '$Forwarded', String.raw`\Draft`], metadata: {subject: 'He said "hi"'}, content: inline(contents.quote),
  }, m(1))
  log.write(ALICE, 'item.created', {
    item: '302', type: 'message', folder: '2', metadata: {subject: '100% done'}, content: inline(contents.percent),
  }, m(1))
  log.write(ALICE, 'item.copied', {item: '303', source: '257', folder: '5'}, T0 + (1.5 * MINUTE))
  seqs.flags257 = log.write(ALICE, 'item.flags', {item: '257', flags: [String.raw`\Seen`, String.raw`\Flagged`]}, m(2))
  seqs.move257 = log.write(ALICE, 'item.moved', {item: '257', folder: '5'}, m(3))
  log.write(ALICE, 'folder.renamed', {folder: '20', path: '/Clients'}, m(4))
  seqs.empty21 = log.write(ALICE, 'folder.emptied', {folder: '21'}, m(5))
  seqs.create259 = log.write(ALICE, 'item.created', {
    item: '259', type: 'message', folder: '2', metadata: {subject: 'Gone'}, content: {path: path.join(store, 'vanished.msg'), size: 10, digest: 'a'.repeat(64)},
  }, m(6))
  seqs.delete257 = log.write(ALICE, 'item.deleted', {item: '257'}, m(7))
  seqs.create304 = log.write(ALICE, 'item.created', {
    item: '304', type: 'appointment', folder: '10', metadata: {summary: 'Review', start: '2026-11-04T14:00:00Z'},
  }, m(8))

  log.write(BOB, 'account.created', {id: 'b0b-id'}, T0)
  seqs.bobItem = log.write(BOB, 'item.created', {
    item: '1', type: 'message', folder: '2', metadata: {subject: 'From Bob'}, content: inline(contents.bob),
  }, m(1))
  seqs.deleteBob = log.write(BOB, 'account.deleted', {}, m(10))

  log.write(CAROL, 'account.created', {id: 'carol-1'}, T0)
  log.write(CAROL, 'account.deleted', {}, m(1))
  log.write(CAROL, 'account.created', {id: 'carol-2'}, m(2))
  seqs.last = log.write(CAROL, 'item.created', {
    item: '1', type: 'contact', folder: '7', metadata: {firstName: 'Dan'},
  }, m(3))
  return {
    log, contents, seqs, lastTime: m(10),
  }
}

/** Runs the Realtime Scanner over the whole redolog once, as a catch-up. */
export async function catchUp(catalog: Catalog, log: RedologWriter): Promise<void> {
  const feed = new RedologFeed(log.dir, {follow: false})
  await runScanner({
    catalog, server: 'mail1', feed, signal: new AbortController().signal,
  })
}

/** A fresh catalog of the given dialect holding the scenario's backup: the common start of the history tests. */
export async function buildScenarioBackup(dialect: Dialect): Promise<{scenario: Scenario; t: TestCatalog}> {
  const t = await openTestCatalog(dialect)
  const scenario = writeScenario(t.home)
  await catchUp(t.catalog, scenario.log)
  return {scenario, t}
}
