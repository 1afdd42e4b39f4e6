import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'
import type {OperationContext} from '../../../src/engine/operations/run-operation.js'

import {RedologFeed} from '../../../src/engine/appserver/redolog/redolog-feed.js'
import {blobPath} from '../../../src/engine/blobstore/blob-path.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {purge, type PurgeOptions, type PurgeReport} from '../../../src/engine/purge/purge.js'
import {runScanner, type ScannerTotals} from '../../../src/engine/scanner/realtime-scanner.js'
import {RedologWriter} from '../../helpers/redolog-writer.js'

export const DAY = 86_400_000
export const SERVER = 'mail1'

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

export function message(subject: string, body = 'hello'): Buffer {
  return Buffer.from(`Message-ID: <${sha256(Buffer.from(subject)).slice(0, 16)}@example.com>\r\nSubject: ${subject}\r\n\r\n${body}\r\n`)
}

/** A mail server's past written as redolog lines (with the times they happened) and content files. */
export class MailboxHistory {
  readonly log: RedologWriter
  readonly store: string

  constructor(readonly home: string, options: {maxEntries?: number} = {}) {
    this.log = new RedologWriter(path.join(home, 'appserver', 'redolog'))
    this.store = path.join(home, 'appserver', 'store')
    mkdirSync(this.store, {recursive: true})
    this.maxEntries = options.maxEntries
  }

  private readonly maxEntries?: number

  account(name: string, at: number): void {
    this.log.write(name, 'account.created', {}, at)
    this.log.write(name, 'folder.created', {folder: '2', path: '/Inbox', view: 'message'}, at)
  }

  /** A message item whose content is a file on the AppServer's store. */
  message(account: string, item: string, content: Buffer, at: number): void {
    const file = path.join(this.store, sha256(content))
    if (!existsSync(file)) writeFileSync(file, content)
    this.log.write(account, 'item.created', {
      item, type: 'message', folder: '2', flags: [], content: {path: file, size: content.length, digest: sha256(content)},
    }, at)
  }

  /** A new version of the item's content (a draft saved again, a document edited). */
  modify(account: string, item: string, content: Buffer, at: number): void {
    const file = path.join(this.store, sha256(content))
    if (!existsSync(file)) writeFileSync(file, content)
    this.log.write(account, 'item.modified', {item, content: {path: file, size: content.length, digest: sha256(content)}}, at)
  }

  contact(account: string, item: string, at: number): void {
    this.log.write(account, 'item.created', {
      item, type: 'contact', folder: '2', metadata: {email: 'x@example.com'},
    }, at)
  }

  flags(account: string, item: string, flags: string[], at: number): void {
    this.log.write(account, 'item.flags', {item, flags}, at)
  }

  deleteItem(account: string, item: string, at: number): void {
    this.log.write(account, 'item.deleted', {item}, at)
  }

  deleteAccount(account: string, at: number): void {
    this.log.write(account, 'account.deleted', {}, at)
  }

  /** Lets the Realtime Scanner catch up with everything written so far. */
  scan(catalog: Catalog, signal: AbortSignal = new AbortController().signal): Promise<ScannerTotals> {
    const feed = new RedologFeed(this.log.dir, {follow: false, maxEntries: this.maxEntries})
    return runScanner({
      catalog, server: SERVER, feed, signal,
    })
  }
}

export function contextFor(catalog: Catalog, signal: AbortSignal = new AbortController().signal): OperationContext {
  return {
    catalog, uuid: '00000000-0000-4000-8000-000000000000', server: SERVER, signal, progress() {},
  }
}

/** Runs a purge as the operation would, with the grace period off unless a test sets it. */
export function purgeNow(catalog: Catalog, options: PurgeOptions = {}): Promise<PurgeReport> {
  return purge(contextFor(catalog), {blobGraceMs: 0, ...options})
}

export async function setGlobal(catalog: Catalog, attribute: string, value: string): Promise<void> {
  await setAttribute(catalog, {level: 'global', target: ''}, attribute, value)
}

export async function itemIds(catalog: Catalog, account: string): Promise<string[]> {
  return catalog.db('items as i')
  .join('accounts as a', 'a.id', 'i.account_id')
  .where('a.name', account)
  .orderBy('i.remote_id')
  .pluck('i.remote_id')
}

export async function countRows(catalog: Catalog, table: string): Promise<number> {
  const [row] = await catalog.db(table).count({n: '*'})
  return Number(row.n)
}

export function blobFileExists(home: string, content: Buffer): boolean {
  return existsSync(blobPath(home, sha256(content)))
}
