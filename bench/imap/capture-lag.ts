// Capture lag: how long after a mail client's change the backup has it committed. A separate IMAP client (one
// connection per account, logged in as the user) APPENDs messages with a unique Message-ID at a steady rate, in turn
// to each of the given folders (INBOX is pushed by IDLE on the selected mailbox, the others by NOTIFY); the
// clock starts when the server acknowledges the APPEND and stops when a revision carrying that Message-ID appears
// in the catalog, which a read-only connection polls every 10 ms (so figures are +-10 ms).
import {ImapFlow} from 'imapflow'
import {createRequire} from 'node:module'

import type {TestDovecot} from '../../test/setup/dovecot-server.js'

interface Database {
  all(sql: string, params: unknown[], callback: (error: Error | null, rows: Row[]) => void): void
  close(callback?: () => void): void
}

const sqlite3 = createRequire(import.meta.url)('sqlite3') as {Database: new (file: string, mode: number) => Database; OPEN_READONLY: number}

export interface LagOptions {
  dovecot: TestDovecot
  accounts: readonly string[]
  password: string
  catalogFile: string
  changes: number
  perSecond: number
  /** The folders appended to in turn (created if missing); default INBOX. */
  folders?: readonly string[]
}

export interface LagFigures {
  committed: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface LagResult extends LagFigures {
  changes: number
  perSecond: number
  missing: number
  /** The same figures for the changes to each folder. */
  byFolder: Record<string, LagFigures>
}

type Row = Record<string, number | string>

function query(db: Database, sql: string, params: unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows)))
  })
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

const sleep = (ms: number) => new Promise(resolve => {
  setTimeout(resolve, ms)
})

export async function measureLag(options: LagOptions): Promise<LagResult> {
  const {dovecot, accounts} = options
  const folders = options.folders ?? ['INBOX']
  const clients = await Promise.all(accounts.map(async account => {
    const client = new ImapFlow({
      host: dovecot.host, port: dovecot.port, secure: false, auth: {user: account, pass: options.password}, logger: false,
    })
    client.on('error', () => {})
    await client.connect()
    for (const folder of folders) if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => {})
    return client
  }))
  const db = new sqlite3.Database(options.catalogFile, sqlite3.OPEN_READONLY)
  const pending = new Map<string, number>()
  const early = new Set<string>()
  const folderOf = new Map<string, string>()
  const lags: Array<{folder: string; ms: number}> = []
  let lastId = Number((await query(db, 'SELECT coalesce(max(id), 0) AS id FROM item_revisions', []))[0].id)
  const polling = {on: true}
  const poller = (async () => {
    while (polling.on) {
      const rows = await query(db, 'SELECT id, metadata FROM item_revisions WHERE id > ? ORDER BY id', [lastId])
      const now = performance.now()
      for (const row of rows) {
        lastId = Math.max(lastId, Number(row.id))
        const {messageId} = JSON.parse(String(row.metadata)) as {messageId?: string}
        if (messageId === undefined) continue
        const sent = pending.get(messageId)
        // Committed before the client even had the server's OK: lag 0 at this resolution.
        if (sent === undefined) {
          early.add(messageId)
          continue
        }

        pending.delete(messageId)
        lags.push({folder: folderOf.get(messageId)!, ms: now - sent})
      }

      await sleep(10)
    }
  })()
  try {
    const started = performance.now()
    const interval = 1000 / options.perSecond
    const appends: Array<Promise<void>> = []
    for (let i = 0; i < options.changes; i++) {
      const due = started + (i * interval)
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      const account = accounts[i % accounts.length]
      // Each account gets each folder in turn, whatever the two counts.
      const folder = folders[Math.floor(i / accounts.length) % folders.length]
      const messageId = `<lag-${i}-${Date.now()}@bench.test>`
      const raw = `Message-ID: ${messageId}\r\nFrom: lag@bench.test\r\nTo: ${account}\r\nSubject: lag ${i}\r\n\r\nChange ${i}.\r\n`
      // Several appends may be in flight (one per account): the pace stays steady when the server is slow.
      folderOf.set(messageId, folder)
      appends.push(clients[i % clients.length].append(folder, raw).then(() => {
        if (early.delete(messageId)) lags.push({folder, ms: 0})
        else pending.set(messageId, performance.now())
      }))
    }

    await Promise.all(appends)
    const deadline = performance.now() + 15_000
    while (pending.size > 0 && performance.now() < deadline) await sleep(50)
  } finally {
    polling.on = false
    await poller
    db.close()
    await Promise.all(clients.map(client => client.logout().catch(() => {})))
  }

  return {
    changes: options.changes,
    perSecond: options.perSecond,
    missing: options.changes - lags.length,
    ...figures(lags.map(lag => lag.ms)),
    byFolder: Object.fromEntries(folders.map(folder => [folder, figures(lags.filter(lag => lag.folder === folder).map(lag => lag.ms))])),
  }
}

function figures(lags: readonly number[]): LagFigures {
  const sorted = [...lags].sort((a, b) => a - b)
  return {
    committed: sorted.length,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    maxMs: Math.round(sorted.at(-1) ?? Number.NaN),
  }
}
