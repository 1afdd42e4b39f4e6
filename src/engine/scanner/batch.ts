import type {Knex} from 'knex'

import type {Transaction} from '../appserver/transaction.js'
import type {ResolvedContent} from './content-resolver.js'
import type {FeedError, TransactionFeed} from './feed-entry.js'
import type {FolderCache} from './folder-cache.js'
import type {BatchStats} from './transaction-applier.js'

import {now} from '../catalog/catalog.js'
import {markAllUncertain, markServerUncertain, markUncertain} from './account-certainty.js'
import {AccountDirectory, type AccountRecord} from './account-writer.js'
import {flushItems, type FlushOptions} from './flush-items.js'
import {
  type CurrentFolder, currentFolders, flushFolders, stageFolderVersion, subtreeOf,
} from './folder-writer.js'
import {loadLiveItemsInFolders, loadOpenItems} from './item-rows.js'
import {
  type FolderVersion, itemKey, type ItemState, type ItemVersion, nextVersion, sortedSet,
} from './versions.js'

/** Problems of a batch told one by one in the daemon's log; the others are counted. */
const MAX_PROBLEMS_TOLD = 20

/** One batch's working set inside its database transaction. */
export class Batch {
  private readonly items = new Map<string, ItemState>()
  private readonly uncertain = new Map<number, {at?: number; reason: string}>()
  private uncertainAll: null | string = null
  private readonly errors: Array<Record<string, unknown>> = []
  /** Keys already asked of the catalog in this batch, found or not: an absent item is not asked for twice. */
  private readonly lookedUp = new Set<string>()
  /** Folders with states staged in this batch. */
  private readonly stagedFolders = new Set<CurrentFolder>()
  private notBackedUp: ReadonlyMap<string, string> = new Map()

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly accounts: AccountDirectory,
    private readonly contents: Map<Transaction, ResolvedContent>,
    private readonly stats: BatchStats,
    private readonly feed: Pick<TransactionFeed, 'connector' | 'server'>,
    private readonly folders: FolderCache,
  ) {}

  private get connector(): string {
    return this.feed.connector
  }

  /** Loads in a few queries the open revisions of every item the batch names, instead of one query each. */
  async prefetch(transactions: Transaction[]): Promise<void> {
    const keys: Array<[number, string]> = []
    for (const t of transactions) {
      // Creations are not looked up: ids are not reused, and flush adopts the rare one that exists already.
      if (!t.op.startsWith('item.') || t.op === 'item.created') continue
      const account = await this.accounts.lookup(this.trx, t.account)
      if (!account) continue
      const data = t.data as {item: string; source?: string}
      keys.push([account.id, data.item])
      if (data.source) keys.push([account.id, data.source])
    }

    const loaded = await loadOpenItems(this.trx, keys)
    for (const [key, state] of loaded) this.items.set(key, state)
    for (const [accountId, remoteId] of keys) this.lookedUp.add(itemKey(accountId, remoteId))
  }

  /**
   * Accounts whose folder and item transactions this batch skips (backupEnabled false); their account transactions
   * (creation, rename, deletion) are still applied, so the directory of accounts stays right.
   */
  leaveOut(notBackedUp: ReadonlyMap<string, string>): void {
    this.notBackedUp = notBackedUp
  }

  /** Records and reports a problem; false for one recorded before (told once only), which is not counted again. */
  async recordError(error: FeedError): Promise<boolean> {
    if (await this.recordedBefore(error)) return false
    this.stats.errors++
    const where = `${error.origin.source}${error.origin.line === undefined ? '' : `:${error.origin.line}`}`
    // A batch of thousands of bad lines (a writer gone wrong) is told by its first few and its count.
    if (this.stats.problems.length < MAX_PROBLEMS_TOLD) this.stats.problems.push(`${where}${error.account ? ` ${error.account}` : ''}: ${error.reason}`)
    this.errors.push({
      source: error.origin.source,
      line: error.origin.line ?? null,
      account: error.account ?? null,
      reason: error.reason,
      raw: error.raw === undefined ? null : error.raw.slice(0, 64 * 1024),
    })
    if (error.scope === 'all') this.uncertainAll ??= `${error.reason} (${where})`
    if (error.scope === 'account' && error.account) {
      const account = await this.accounts.lookup(this.trx, error.account)
      if (account) this.markUncertain(account.id, `${error.reason} (${where})`)
    }

    return true
  }

  /**
   * A problem with a whole file (a name that breaks the pattern) is found again each time the scanner starts reading:
   * docs/redolog.md promises it is reported once, so one already recorded is neither recorded nor told again.
   */
  private async recordedBefore(error: FeedError): Promise<boolean> {
    if (!error.once) return false
    const row = await this.trx('ingest_errors')
    .where({connector: this.connector, source: error.origin.source, reason: error.reason})
    .first('id')
    return row !== undefined
  }

  async applyTransaction(t: Transaction): Promise<void> {
    this.stats.transactions++
    this.stats.lastSeq = t.seq
    this.stats.lastTime = Math.max(this.stats.lastTime ?? 0, t.time)
    const account = await this.accountFor(t)
    if (!account) return
    if (t.doubt) this.markUncertain(account.id, t.doubt.reason, t.doubt.since)
    const leftOutBy = this.notBackedUp.get(t.account)
    if (leftOutBy !== undefined && !t.op.startsWith('account.')) {
      this.stats.notBackedUp++
      // The history now misses changes: whoever restores the account later is told from when.
      this.markUncertain(account.id, `not backed up from seq ${t.seq} on (backupEnabled false at ${leftOutBy}): later changes are missing`, t.time)
      return
    }

    switch (t.op) {
    case 'account.created':
    case 'account.deleted':
    case 'account.modified':
    case 'account.renamed': {
      await this.applyAccount(t, account)
      return
    }

    case 'folder.created':
    case 'folder.moved':
    case 'folder.renamed': {
      await this.applyFolderChange(t, account)
      return
    }

    case 'folder.deleted':
    case 'folder.emptied': {
      await this.applyFolderRemoval(t, account)
      return
    }

    default: {
      await this.applyItem(t, account)
    }
    }
  }

  async finish(options: FlushOptions): Promise<void> {
    await flushFolders(this.trx, options.dialect, this.stagedFolders)
    const flushed = await flushItems(this.trx, [...this.items.values()], this.contents, options)
    this.stats.revisions += flushed.revisions
    this.stats.blobsWritten += flushed.blobsWritten
    this.stats.bytesWritten += flushed.bytesWritten
    if (this.errors.length > 0) {
      const at = now()
      for (let i = 0; i < this.errors.length; i += 200) {
        await this.trx('ingest_errors').insert(this.errors.slice(i, i + 200).map(e => ({...e, connector: this.connector, recorded_at: at})))
      }
    }

    if (this.uncertainAll) {
      const {server} = this.feed
      await (server === undefined ? markAllUncertain(this.trx, this.uncertainAll) : markServerUncertain(this.trx, server, this.uncertainAll))
    }

    const byReason = new Map<string, {at?: number; ids: number[]; reason: string}>()
    for (const [id, {at, reason}] of this.uncertain) {
      const key = `${at ?? ''} ${reason}`
      const group = byReason.get(key) ?? {at, ids: [], reason}
      group.ids.push(id)
      byReason.set(key, group)
    }

    for (const {at, ids, reason} of byReason.values()) await markUncertain(this.trx, ids, reason, at)
  }

  private markUncertain(accountId: number, reason: string, at?: number): void {
    if (!this.uncertain.has(accountId)) this.uncertain.set(accountId, {at, reason})
  }

  private async problem(t: Transaction, reason: string, scope: FeedError['scope'] = 'account'): Promise<void> {
    await this.recordError({
      reason, account: t.account, origin: t.origin, scope, raw: JSON.stringify({seq: t.seq, op: t.op, data: t.data}),
    })
  }

  /** The account a transaction belongs to; an unknown one is created and marked uncertain (first seen mid-stream). */
  private async accountFor(t: Transaction): Promise<AccountRecord | undefined> {
    const existing = await this.accounts.lookup(this.trx, t.account)
    if (t.op === 'account.created') {
      if (existing && !existing.deleted) return existing
      // The same address again after a deletion: a new account.
      if (existing) await this.accounts.setAside(this.trx, existing)

      const account = await this.accounts.create(this.trx, t.account, t.time, t.data)
      // A new account has no folders yet: nothing to look up.
      this.folders.set(account.id, new Map())
      return account
    }

    if (existing?.deleted) {
      // The account is gone: its history ends with its deletion. A change after that is reported, not applied.
      await this.problem(t, `${t.op} for account ${t.account}, which was deleted; ignored`, 'none')
      return undefined
    }

    if (existing) return existing
    const created = await this.accounts.create(this.trx, t.account, t.time, {}, 'account.discovered')
    this.markUncertain(created.id, `first transaction for this account was ${t.op} (seq ${t.seq}), not account.created`)
    return created
  }

  private async applyAccount(t: Transaction, account: AccountRecord): Promise<void> {
    switch (t.op) {
    case 'account.created': {
      return
    }

    case 'account.modified': {
      await this.accounts.modify(this.trx, account, t.time, t.data)
      return
    }

    case 'account.renamed': {
      const holder = await this.accounts.lookup(this.trx, t.data.name)
      if (holder && !holder.deleted) {
        await this.problem(t, `cannot rename to ${t.data.name}: that account already exists`)
        return
      }

      // The address of a deleted account is free on the server, for a rename as for a creation: refusing it lost
      // every later line for that address as changes to a deleted account.
      if (holder) await this.accounts.setAside(this.trx, holder)
      await this.accounts.rename(this.trx, account, t.time, t.data.name)
      return
    }

    case 'account.deleted': {
      await this.accounts.delete(this.trx, account, t.time)
    }
    }
  }

  private async foldersOf(accountId: number): Promise<Map<string, CurrentFolder>> {
    let folders = this.folders.get(accountId)
    if (!folders) {
      folders = await currentFolders(this.trx, accountId)
      this.folders.set(accountId, folders)
    }

    return folders
  }

  private async applyFolderChange(t: Transaction & {data: {folder: string}}, account: AccountRecord): Promise<void> {
    const data = t.data as {folder: string; metadata?: Record<string, unknown>; parent?: string; path?: string; view?: string}
    const folders = await this.foldersOf(account.id)
    const current = folders.get(data.folder)?.version
    if (!current && t.op !== 'folder.created') {
      await this.problem(t, `${t.op} for folder ${data.folder}, which the backup does not know`)
      // Record it anyway so that later items have a folder to live in; the account is uncertain now.
    }

    if (current?.deleted && t.op !== 'folder.created') {
      // A deleted folder does not come back by being renamed or moved: only a new folder.created revives the id.
      await this.problem(t, `${t.op} for folder ${data.folder}, which was deleted; ignored`)
      return
    }

    const parent = data.parent ?? current?.parent ?? null
    const version: FolderVersion = {
      validFrom: Math.max(t.time, current?.validFrom ?? t.time),
      operation: t.op,
      path: data.path ?? derivePath(folders, parent, current?.path, data.folder),
      parent,
      view: data.view ?? current?.view ?? null,
      deleted: false,
      metadata: {...current?.metadata, ...data.metadata},
      txnSeq: t.seq,
    }
    this.stagedFolders.add(stageFolderVersion(account.id, data.folder, version, folders))
  }

  /**
   * Empty Folder and folder deletion delete every item the catalog knows in the folder and its subfolders at
   * that moment (this batch's own changes included). Emptying also makes the account uncertain: the server did
   * not list what it deleted, so only a SmartScan can confirm the backup matches.
   */
  private async applyFolderRemoval(t: Transaction & {data: {folder: string}}, account: AccountRecord): Promise<void> {
    const folders = await this.foldersOf(account.id)
    const root = t.data.folder
    if (!folders.has(root)) await this.problem(t, `${t.op} for folder ${root}, which the backup does not know`)
    const subtree = subtreeOf(folders, root)
    const inFolders = new Set(subtree)
    for (const state of await loadLiveItemsInFolders(this.trx, account.id, subtree)) {
      const key = itemKey(state.accountId, state.remoteId)
      if (!this.items.has(key)) this.items.set(key, state)
    }

    for (const state of this.items.values()) {
      if (state.accountId !== account.id || !state.current || state.current.deleted) continue
      if (state.current.folder === null || !inFolders.has(state.current.folder)) continue
      this.push(state, nextVersion(state.current, t.time, t.op, {deleted: true}, t.seq))
    }

    if (t.op === 'folder.deleted') {
      for (const id of subtree) {
        const current = folders.get(id)?.version
        if (!current) continue
        this.stagedFolders.add(stageFolderVersion(account.id, id, {
          ...current, validFrom: Math.max(t.time, current.validFrom), operation: t.op, deleted: true, txnSeq: t.seq,
        }, folders))
      }
    } else {
      this.markUncertain(account.id, `folder ${folders.get(root)?.version.path ?? root} was emptied (seq ${t.seq}); run a SmartScan of the account`)
    }
  }

  private async applyItem(t: Transaction, account: AccountRecord): Promise<void> {
    const data = t.data as {item: string}
    const key = itemKey(account.id, data.item)
    const state = t.op === 'item.created' ? this.items.get(key) : await this.itemState(account.id, data.item)
    if (t.op === 'item.created') {
      const d = t.data
      const fresh: ItemState = state ?? {
        accountId: account.id, remoteId: d.item, type: d.type ?? 'message', itemId: null, openInDb: false, current: null, pending: [],
      }
      if (state?.current && !state.current.deleted) {
        await this.problem(t, `item ${d.item} created again while it exists; recorded as a new state`, 'none')
      }

      this.items.set(key, fresh)
      // Every field is set anew: nothing of a previous incarnation of the id carries over.
      this.push(fresh, nextVersion(fresh.current, t.time, t.op, {
        folder: d.folder ?? null,
        flags: sortedSet(d.flags),
        tags: sortedSet(d.tags),
        metadata: d.metadata ?? {},
        blobDigest: null,
        size: null,
        locator: null,
        contentMissing: false,
        ...this.contentVersion(t),
      }, t.seq))
      return
    }

    if (t.op === 'item.copied') {
      const source = await this.itemState(account.id, t.data.source)
      if (!source?.current || source.current.deleted) {
        await this.problem(t, `item.copied from item ${t.data.source}, which ${source?.current ? 'was deleted' : 'the backup does not know'}`)
        return
      }

      const copy: ItemState = state ?? {
        accountId: account.id, remoteId: t.data.item, type: source.type, itemId: null, openInDb: false, current: null, pending: [],
      }
      this.items.set(key, copy)
      const d = t.data
      this.push(copy, nextVersion(copy.current, t.time, t.op, {
        ...source.current,
        folder: d.folder ?? source.current.folder,
        flags: d.flags ? sortedSet(d.flags) : source.current.flags,
        tags: d.tags ? sortedSet(d.tags) : source.current.tags,
        metadata: d.metadata ?? source.current.metadata,
        deleted: false,
      }, t.seq))
      return
    }

    // The second half of a MOVE whose first half was recorded as the item's deletion: the move starts then.
    const undone = t.op === 'item.moved' && t.data.undoesDeletion && state?.current?.deleted ? this.undoDeletion(state) : undefined
    if (!state?.current || state.current.deleted) {
      await this.problem(t, `${t.op} for item ${data.item}, which the backup does not know`)
      return
    }

    switch (t.op) {
    case 'item.deleted': {
      this.push(state, nextVersion(state.current, t.time, t.op, {deleted: true}, t.seq))
      break
    }

    case 'item.flags': {
      this.push(state, nextVersion(state.current, t.time, t.op, {flags: sortedSet(t.data.flags)}, t.seq))
      break
    }

    case 'item.modified':
    case 'item.moved': {
      this.push(state, nextVersion(state.current, undone ?? t.time, t.op, this.itemChanges(t), t.seq))
      break
    }

    case 'item.tags': {
      this.push(state, nextVersion(state.current, t.time, t.op, {tags: sortedSet(t.data.tags)}, t.seq))
      break
    }

    default: {
      await this.problem(t, `unknown operation ${t.op}`)
    }
    }
  }

  /**
   * Takes back an item's deletion that was the first half of a MOVE (item.moved with undoesDeletion): the item is
   * again as it was before it, and the move that follows starts at the deletion's moment, so that a read at any
   * time finds the message in exactly one folder (its destination from then on), and doUndelete finds no deletion.
   * Left in place, the deletion made every point-in-time read (export, restores, getItem) lose the message between
   * the two cycles. Returns when the move starts.
   */
  private undoDeletion(state: ItemState): number {
    const deletion = state.current!
    if (state.pending.at(-1) === deletion) {
      // Recorded by this batch: never written.
      state.pending.pop()
    } else {
      // The catalog's open revision: removed at flush rather than closed (the one exception to append-only, for a
      // state the server never had).
      state.dropsOpenDeletion = true
      state.openInDb = false
    }

    // A deletion keeps every field of the state it ended: that state, live.
    state.current = {...deletion, deleted: false}
    return deletion.validFrom
  }

  /**
   * An item's newest state: this batch's, else the catalog's. The prefetch covers almost every item; this finds the
   * rest, e.g. items of an account renamed earlier in the same batch (the prefetch looked them up by the new name).
   */
  private async itemState(accountId: number, remoteId: string): Promise<ItemState | undefined> {
    const key = itemKey(accountId, remoteId)
    const known = this.items.get(key)
    if (known || this.lookedUp.has(key)) return known
    this.lookedUp.add(key)
    const loaded = (await loadOpenItems(this.trx, [[accountId, remoteId]])).get(key)
    if (loaded) this.items.set(key, loaded)
    return loaded
  }

  /** What an item.modified or item.moved sets: the fields it carries, nothing else. */
  private itemChanges(t: Transaction & {op: 'item.modified' | 'item.moved'}): Partial<ItemVersion> {
    const d = t.data
    const changes: Partial<ItemVersion> = {...(d.content ? this.contentVersion(t) : {})}
    if (d.folder !== undefined) changes.folder = d.folder
    if (d.flags !== undefined) changes.flags = sortedSet(d.flags)
    if (d.tags !== undefined) changes.tags = sortedSet(d.tags)
    if (d.metadata !== undefined) changes.metadata = d.metadata
    return changes
  }

  private contentVersion(t: Transaction): Partial<ItemVersion> {
    const content = this.contents.get(t)
    if (!content) return {}
    return {
      blobDigest: content.digest, size: content.size, locator: content.locator, contentMissing: content.missing,
    }
  }

  private push(state: ItemState, version: ItemVersion): void {
    state.pending.push(version)
    state.current = version
  }
}

function derivePath(folders: Map<string, CurrentFolder>, parent: null | string, previous: string | undefined, id: string): string {
  const name = previous?.split('/').pop() ?? id
  const parentPath = parent === null ? '' : (folders.get(parent)?.version.path ?? '')
  return `${parentPath}/${name}`
}
