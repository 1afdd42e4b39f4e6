// A SmartScan test bed: the shared IMAP test bed (test/helpers/imap-cli-bed.ts: a fresh catalog configured for the
// test Dovecot, users made on demand, a separate imapflow client per user to change mailboxes the way a mail client
// would), with the SmartScan run and readers of what the backup holds.

import type {LoginMode} from '../../../src/engine/config/attributes.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {BlobStore} from '../../../src/engine/blobstore/blob-store.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {smartScan, type SmartScanReport, type SmartScanRequest} from '../../../src/engine/smartscan/smart-scan.js'
import {GLOBAL, imapTestBed, type ImapTestBed} from '../../helpers/imap-cli-bed.js'
import {type Dialect} from '../../helpers/test-catalog.js'
import {type TestDovecot} from '../../setup/dovecot-server.js'

export const SERVER = 'mail1'
const USER_PASSWORD = 'user-secret-9f'

export interface LiveItem {
  id: string
  folder: string
  path: string
  flags: string[]
  digest: null | string
  locator: null | string
  metadata: Record<string, unknown>
}

export interface Scenario extends ImapTestBed {
  events: ProgressEvent[]
  /** Every IMAP command the plugin sent in the last scan, per account. */
  commands: Map<string, string[]>
  scan(request?: SmartScanRequest): Promise<SmartScanReport>
  liveItems(address: string): Promise<LiveItem[]>
  revisions(address: string, item: string): Promise<Array<{deleted: boolean; flags: string[]; folder: null | string; locator: null | string; operation: string}>>
  blob(digest: string): Promise<Buffer>
}

/** `dovecot`: a server of the test's own (startTestDovecot with other options) instead of the shared one. */
export async function imapScenario(dialect: Dialect, options: {dovecot?: TestDovecot; loginMode?: LoginMode} = {}): Promise<Scenario> {
  const bed = await imapTestBed(dialect, USER_PASSWORD, options.dovecot)
  const {t} = bed
  if (options.loginMode) await setAttribute(t.catalog, GLOBAL, 'backupAppServerLoginMode', options.loginMode)
  const events: ProgressEvent[] = []
  const commands = new Map<string, string[]>()
  const scenario: Scenario = {
    ...bed,
    events,
    commands,
    async scan(request = {}) {
      commands.clear()
      events.length = 0
      return smartScan({
        catalog: t.catalog,
        uuid: 'test',
        server: SERVER,
        signal: new AbortController().signal,
        progress: event => events.push(event),
      }, {
        ...request,
        onCommand(account, command) {
          const list = commands.get(account) ?? []
          list.push(command)
          commands.set(account, list)
        },
      })
    },
    async liveItems(address) {
      const rows = await t.catalog.db('items as i')
      .join('accounts as a', 'a.id', 'i.account_id')
      .join('item_revisions as r', 'r.item_id', 'i.id')
      .whereNull('r.valid_to')
      .where('r.deleted', false)
      .where('a.name', address)
      .select('i.remote_id', 'i.account_id', 'r.folder_remote_id', 'r.flags', 'r.blob_digest', 'r.locator', 'r.metadata')
      const folders = new Map<string, string>()
      if (rows.length > 0) {
        const folderRows = await t.catalog.db('folders as f')
        .join('folder_revisions as r', 'r.folder_id', 'f.id')
        .whereNull('r.valid_to')
        .where('f.account_id', rows[0].account_id)
        .select('f.remote_id', 'r.path')
        for (const row of folderRows) folders.set(row.remote_id, row.path)
      }

      return rows.map(row => ({
        id: row.remote_id,
        folder: row.folder_remote_id,
        path: folders.get(row.folder_remote_id) ?? '?',
        flags: JSON.parse(row.flags),
        digest: row.blob_digest,
        locator: row.locator,
        metadata: JSON.parse(row.metadata),
      })).sort((a, b) => (a.path + a.id < b.path + b.id ? -1 : 1))
    },
    async revisions(address, item) {
      const rows = await t.catalog.db('item_revisions as r')
      .join('items as i', 'i.id', 'r.item_id')
      .join('accounts as a', 'a.id', 'i.account_id')
      .where('a.name', address)
      .where('i.remote_id', item)
      .orderBy('r.id')
      .select('r.operation', 'r.folder_remote_id', 'r.flags', 'r.deleted', 'r.locator')
      return rows.map(row => ({
        operation: row.operation, folder: row.folder_remote_id, flags: JSON.parse(row.flags), deleted: Boolean(row.deleted), locator: row.locator,
      }))
    },
    blob: digest => new BlobStore(t.home).get(digest),
  }
  return scenario
}

/** A small RFC 5322 message with CRLF line ends, unique by its subject. */
export function message(subject: string, body = `Body of ${subject}.`, extraHeaders = ''): Buffer {
  const id = subject.replaceAll(/\W/g, '-')
  const headers = `Message-ID: <${id}@example.test>\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\n`
  return Buffer.from(`${headers}Date: Tue, 03 Nov 2026 10:00:00 +0000\r\n${extraHeaders}\r\n${body}\r\n`)
}

/** The commands of one account's scan, without the connection's own (greeting, login, capabilities, logout). */
export function mailboxCommands(commands: readonly string[] | undefined): string[] {
  const session = new Set(['AUTHENTICATE', 'CAPABILITY', 'COMPRESS', 'ENABLE', 'ID', 'LOGIN', 'LOGOUT', 'NAMESPACE'])
  return (commands ?? []).filter(command => !session.has(command))
}

/** The internal date of the scenario's messages. */
export const JAN = new Date('2026-01-15T08:30:00.000Z')

/** alice with INBOX (3), Archive/2024 (2), and Entwürfe (1, appended over IMAP with a keyword). */
export async function loadAlice(s: Scenario): Promise<string> {
  const address = await s.user('alice')
  await s.dovecot.loadMessages(address, {
    INBOX: [
      {raw: message('inbox one'), internalDate: JAN},
      {raw: message('inbox two'), flags: [String.raw`\Seen`], internalDate: JAN},
      {raw: message('inbox three', 'x'.repeat(50_000)), flags: [String.raw`\Seen`, String.raw`\Answered`], internalDate: JAN},
    ],
    'Archive/2024': [
      {raw: message('old one'), flags: [String.raw`\Seen`], internalDate: JAN},
      {raw: message('old two'), flags: [String.raw`\Flagged`], internalDate: JAN},
    ],
  })
  const client = await s.client(address)
  await client.mailboxCreate('Entwürfe')
  await client.append('Entwürfe', message('draft', 'Grüße'), [String.raw`\Draft`, '$Label1'], JAN)
  return address
}
