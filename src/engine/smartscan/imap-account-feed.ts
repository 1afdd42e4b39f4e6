import {randomUUID} from 'node:crypto'
import path from 'node:path'

import type {ContentRef, Transaction} from '../appserver/transaction.js'
import type {BlobStore} from '../blobstore/blob-store.js'
import type {Catalog} from '../catalog/catalog.js'
import type {FeedEntry, TransactionFeed} from '../scanner/feed-entry.js'
import type {FolderPlan, PlanKnowledge, PlannedFolder} from './folder-plan.js'

import {
  IMAP_CONNECTOR, itemIdOf, locatorOf,
} from '../appserver/imap/imap-identity.js'
import {
  asImapPosition, EMPTY_POSITION, type ImapAccountPosition, type ImapFolderPosition, NO_STATUS, sameStatus,
} from '../appserver/imap/imap-position.js'
import {
  type FolderRead, type FolderStatus, type ImapSession, type MessageMeta, type ServerFolder,
} from '../appserver/imap/imap-session.js'
import {sha256} from '../blobstore/blob-store.js'
import {LARGE_CONTENT_BYTES} from '../blobstore/blob-stream-write.js'
import {Quarantine} from '../coherency/quarantine.js'
import {verifyBlobFile} from '../coherency/verify-blob.js'
import {throwIfAborted} from '../errors.js'
import {isSystemMailPath} from '../history/system-folders.js'
import {mapAhead} from '../map-ahead.js'
import {checkpointTime} from '../scanner/checkpoints.js'
import {
  type BackupFolder, type BackupItem, findBackupAccount, liveFolders, liveItems, liveItemsAtUids, undeclaredSystemFolders,
} from './backup-view.js'
import {diffFolder, type FolderDiff} from './folder-diff.js'
import {planFolders, serverMatchesPosition} from './folder-plan.js'
import {type Arrival, type EarlierItem, LateMoves} from './late-moves.js'
import {likeness, otherInternalDate} from './message-likeness.js'
import {recreatedWithOtherMail} from './recreated-mailboxes.js'

export interface AccountFeedOptions {
  catalog: Catalog
  blobs: BlobStore
  /** Blobless mode: the deep scan does not look for blob files the backup does not keep. */
  blobless: boolean
  session: ImapSession
  account: string
  /** Re-read every folder and message and verify each digest against the backup. */
  deep?: boolean
  /** A batch (one database transaction) holds at most about this many message bytes ... */
  batchBytes?: number
  /** ... and this many transactions. */
  batchSize?: number
  /** A large folder new to the backup is listed by UID and read this many messages at a time (LIST_WINDOW). */
  listWindow?: number
  /** Told how far the cycle is, after each batch. */
  onProgress?: (stats: AccountSyncStats) => void
  /** Awaited before each FETCH of message bodies (SmartScan bounds how many accounts transfer at once). */
  beforeBodies?: () => Promise<void>
  /**
   * When the scan or capture of which this cycle is part began: an account new to the backup is uncertain from its
   * first batch until the scan that began then marks it scanned (markScanned), so a scan stopped or killed part-way
   * leaves it uncertain, never certain with part of its mail.
   */
  startedAt?: number
}

export interface AccountSyncStats {
  /** The account was not in the backup (or only as deleted): this scan created it. */
  accountCreated: boolean
  folders: number
  /** Folders whose status had changed (or all, deep): each cost an EXAMINE and a FETCH. */
  foldersRead: number
  foldersCreated: number
  foldersRenamed: number
  foldersDeleted: number
  /** Messages on the server, by the folders' status. */
  messages: number
  /** Messages whose flags and headers were fetched: every one of a folder read in full, else only those changed. */
  listed: number
  created: number
  /** Existing items found at a new place (another folder, or a new UIDVALIDITY): same item, new revision. */
  moved: number
  flagsChanged: number
  deleted: number
  /** Deep: contents read again whose digest matched the backup. */
  verified: number
  /** Deep: contents whose digest differed, or whose blob was missing from the backup, recorded again. */
  repaired: number
  bytesRead: number
  /** Folders whose incremental read did not add up, read again in full. */
  fullRereads: number
  warnings: string[]
}

// A batch keeps its messages' bytes until it commits (flushItems stores one again if a purge removed its blob
// meanwhile), in each of the accounts transferring at once (TransferSlots): its byte bound is most of a SmartScan's
// memory. 8 MB rather than 32 took about 90 MB off the peak RSS of an initial capture of 5 accounts (480 -> 390 MB)
// at the same speed: a commit costs little next to the bytes it records.
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024
const DEFAULT_BATCH_SIZE = 500

interface Placed {
  folder: PlannedFolder
  message: MessageMeta
  uidvalidity: number
}

/** A new message of the cycle with its content, and the item removed elsewhere in the cycle that it is, if any. */
interface NewArrival extends Placed {
  content: ContentRef & {digest: string}
  digest: string
  previous?: BackupItem
}

/**
 * One synchronisation cycle of an account with the IMAP AppServer, as the Transaction stream the Realtime Scanner's
 * applier consumes (connector 'imap', scope the account): LIST-STATUS; for each folder whose UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ or count changed since its checkpoint, the changes (CHANGEDSINCE/VANISHED) or, without a usable
 * baseline, every message; then the transactions that bring the backup to what the server has:
 *
 * 1. the account and folder structure (created, renamed, moved), and flag changes;
 * 2. the contents of new messages in batches bounded in bytes; a new message whose digest and internal date are those
 *    of an item just removed elsewhere (a MOVE), or whose digest is that of an item of a mailbox re-numbered by a new
 *    UIDVALIDITY, is that item at its new place;
 * 3. the items and folders that are gone, and the final position.
 *
 * Every batch carries a position: the start one (with folder ids added) until the last batch, which carries the new
 * status of every folder. The comparison is with what the catalog holds, so a cycle interrupted anywhere is redone
 * from the old baseline without duplicating anything. Nothing is applied here: the caller applies each batch
 * before asking for the next one.
 */
export class ImapAccountFeed implements TransactionFeed<ImapAccountPosition> {
  readonly connector = IMAP_CONNECTOR
  readonly scope: string
  readonly stats: AccountSyncStats = {
    accountCreated: false,
    folders: 0,
    foldersRead: 0,
    foldersCreated: 0,
    foldersRenamed: 0,
    foldersDeleted: 0,
    messages: 0,
    listed: 0,
    created: 0,
    moved: 0,
    flagsChanged: 0,
    deleted: 0,
    verified: 0,
    repaired: 0,
    bytesRead: 0,
    fullRereads: 0,
    warnings: [],
  }
  /** Where the cycle ended: committed with its last batch, or by the caller when no batch was needed. */
  finalPosition: ImapAccountPosition | null = null
  /** The account's catalog id when it was in the backup before this cycle (null for one the cycle creates). */
  knownAccountId: null | number = null
  /** Blob directories that got new entries (renames) not yet synced: see take(). */
  private readonly unsyncedDirs = new Set<string>()
  /** Bodies of new messages read with their folder's incremental read (readChanges), until fetchChunk takes them. */
  private readonly prefetched = new Map<PlannedFolder, {bodies: Map<number, Buffer>; uidvalidity: number}>()
  private prefetchedBytes = 0
  /** Deep: each content's blob file as verified in this cycle (blobState). */
  private readonly blobStates = new Map<string, Promise<string>>()
  private quarantine?: Quarantine

  constructor(private readonly options: AccountFeedOptions) {
    this.scope = options.account.toLowerCase()
  }

  /** IMAP content travels in memory (ContentRef.bytes): there is no file to resolve. */
  resolveContentPath(contentPath: string): string {
    return contentPath
  }

  async * read(from: unknown, signal: AbortSignal): AsyncGenerator<Array<FeedEntry<ImapAccountPosition>>> {
    const cycle = await this.plan(from)
    if (!cycle) return
    const batch = new Batch(this.scope, this.options)
    this.structure(batch, cycle)
    const changes = await this.readChanges(cycle, signal)
    for (const {item, message} of changes.flagged) {
      batch.add({op: 'item.flags', data: {item: item.id, flags: message.flags}}, Number(message.modseq))
      this.stats.flagsChanged++
      if (batch.full) yield batch.take(cycle.intermediate())
    }

    if (batch.size > 0) yield batch.take(cycle.intermediate())
    yield * this.newMessages(batch, cycle, changes, signal)
    if (this.options.deep) yield * this.verify(batch, cycle, changes, signal)
    // What is gone, then the folders that are gone (deepest first, so that none is deleted twice).
    let deletions = 0
    for (const item of changes.removed) {
      if (changes.matched.has(item)) continue
      batch.add({op: 'item.deleted', data: {item: item.id}}, 0)
      this.stats.deleted++
      deletions++
    }

    for (const g of cycle.plan.gone) {
      batch.add({op: 'folder.deleted', data: {folder: g.id}}, 0)
      this.stats.foldersDeleted++
    }

    this.finalPosition = deletions > 0 ? {...cycle.final(), uidnextAtEnd: await this.uidnextNow(cycle)} : cycle.final()
    if (batch.size > 0) yield await this.take(batch, this.finalPosition)
    this.options.onProgress?.(this.stats)
  }

  /**
   * Each folder's UIDNEXT now, after every read of the cycle (one LIST-STATUS): what the next cycle tells a MOVE's
   * other half from a message put back later by (ImapAccountPosition.uidnextAtEnd).
   */
  private async uidnextNow(cycle: Cycle): Promise<Record<string, number>> {
    const ids = new Map(cycle.plan.folders.map(f => [f.server.path, f.id]))
    const result: Record<string, number> = {}
    for (const folder of await this.options.session.folders()) {
      const id = ids.get(folder.path)
      if (id !== undefined && folder.status) result[id] = folder.status.uidnext
    }

    return result
  }

  /** The folders as the server has them against the backup's; undefined when nothing at all changed. */
  private async plan(from: unknown): Promise<Cycle | undefined> {
    const {catalog, session} = this.options
    const startedAt = Date.now()
    const account = await findBackupAccount(catalog, this.scope)
    const fresh = !account || account.deleted
    if (!fresh) this.knownAccountId = account.id
    const start = fresh ? EMPTY_POSITION : asImapPosition(from)
    const server = await session.folders()
    this.stats.folders = server.length
    this.stats.messages = server.reduce((sum, f) => sum + (f.status?.messages ?? 0), 0)
    // Most accounts of a sweep: one LIST-STATUS and no catalog read.
    if (!fresh && !this.options.deep && serverMatchesPosition(server, start)) {
      this.finalPosition = start
      return undefined
    }

    const catalogFolders = fresh ? new Map<string, BackupFolder>() : await liveFolders(catalog, account.id)
    const plan = fresh ? planFolders(server, start, catalogFolders) : await this.planKnownAccount(server, start, catalogFolders, account.id)

    const toRead = plan.folders.filter(f => f.server.selectable && (this.options.deep || !f.known || !sameStatus(f.known, f.server.status!)))
    // A folder that became \Noselect (Dovecot, after deleting a mailbox that has children) lost its messages.
    const emptied = plan.folders.filter(f => !f.server.selectable && (f.known?.messages ?? 0) > 0)
    const statuses = new Map<PlannedFolder, FolderStatus>(plan.folders.map(f => [f, f.server.status ?? NO_STATUS]))
    const final = (): ImapAccountPosition => ({
      folders: Object.fromEntries([...statuses].map(([f, status]) => [f.id, {...status, path: f.server.path}])), startedAt,
    })
    if (!fresh && toRead.length === 0 && emptied.length === 0 && plan.gone.length === 0 && plan.folders.every(f => f.change === null)) {
      this.finalPosition = final()
      return undefined
    }

    // New messages ahead: the blob writer threads start now, so that they are ready (about 100 ms) when the first
    // bodies arrive, instead of those being gzipped and fsynced on this thread meanwhile.
    if (!this.options.blobless && toRead.some(f => !f.known || f.server.status!.uidnext > f.known.uidnext)) this.options.blobs.expectWrites()
    return {
      accountId: fresh ? null : account.id,
      // Read before this cycle commits anything (its first batches move the checkpoint on).
      previousCommitAt: fresh ? null : await checkpointTime(catalog, IMAP_CONNECTOR, this.scope),
      start,
      fresh,
      plan,
      toRead,
      emptied,
      statuses,
      final,
      intermediate: midway({...intermediatePosition(start, plan.folders), startedAt}),
    }
  }

  /** planFolders, with what the catalog and the server tell beyond the mailboxes' statuses where it matters. */
  private async planKnownAccount(server: ServerFolder[], start: ImapAccountPosition, catalogFolders: Map<string, BackupFolder>, accountId: number): Promise<FolderPlan> {
    const {catalog, session} = this.options
    const knowledge: PlanKnowledge = {}
    let plan = planFolders(server, start, catalogFolders)
    // Looking for system folders the catalog never declared walks the account's items: done only when the plan would
    // otherwise create a new folder where one of them lives (once per redolog-fed account; never for one IMAP fed).
    if (plan.folders.some(f => f.change === 'folder.created' && isSystemMailPath(f.server.path))) {
      knowledge.undeclared = await undeclaredSystemFolders(catalog, accountId, catalogFolders)
      plan = planFolders(server, start, catalogFolders, knowledge)
    }

    knowledge.recreated = await recreatedWithOtherMail(plan, {accountId, catalog, session})
    return knowledge.recreated.size > 0 ? planFolders(server, start, catalogFolders, knowledge) : plan
  }

  /** The account (when new) and the folders created, renamed or moved. */
  private structure(batch: Batch, cycle: Cycle): void {
    if (cycle.fresh) {
      batch.add({op: 'account.created', data: {}}, 0, {reason: FIRST_CAPTURE_UNFINISHED, since: this.options.startedAt ?? Date.now()})
      this.stats.accountCreated = true
    }

    for (const f of cycle.plan.folders) {
      if (f.change === null) continue
      const metadata = f.server.specialUse ? {specialUse: f.server.specialUse} : {}
      batch.add({
        op: f.change, data: {
          folder: f.id, parent: f.parent, path: f.server.path, view: 'message', metadata,
        },
      }, 0)
      if (f.change === 'folder.created') this.stats.foldersCreated++
      else this.stats.foldersRenamed++
    }
  }

  /** Reads the folders that changed and compares them with the backup's items there. */
  private async readChanges(cycle: Cycle, signal: AbortSignal): Promise<Changes> {
    const {catalog, session} = this.options
    const reads = new Map<PlannedFolder, FolderRead>()
    const unlisted: Changes['unlisted'] = []
    for (const f of cycle.toRead) {
      throwIfAborted(signal)
      if (listedByWindow(f, this.listWindow)) {
        const {status, uids} = await session.uids(f.server.mailbox)
        cycle.statuses.set(f, status)
        unlisted.push({folder: f, uids, uidvalidity: status.uidvalidity})
        this.stats.foldersRead++
        continue
      }

      reads.set(f, await this.readFolder(f))
      this.stats.foldersRead++
    }

    // Every item of the folders read in full, emptied or gone; of a folder read incrementally, only what its changes
    // name (and its count): a dozen changes in a folder of thousands decode a dozen rows.
    const whole = (f: PlannedFolder) => reads.get(f)?.complete !== false
    const folderIds = [...cycle.toRead.filter(f => whole(f)), ...cycle.emptied].map(f => f.id)
    folderIds.push(...cycle.plan.gone.map(g => g.id))
    const items = cycle.accountId === null || folderIds.length === 0 ? [] : await liveItems(catalog, cycle.accountId, folderIds)
    const byFolder = groupBy(items, item => item.folder)
    const changes: Changes = {
      removed: [], matched: new Set(), movedLate: new Set(), added: [], unlisted, kept: [], flagged: [],
    }
    const concernedByFolder = await this.concernedItems(cycle, reads)
    for (const [f, first] of reads) {
      let read = first
      let diff: FolderDiff
      if (read.complete || cycle.accountId === null) {
        diff = diffFolder(byFolder.get(f.id) ?? [], read)
      } else {
        const concerned = concernedByFolder.get(f.id)!
        diff = diffFolder(concerned.items, read, concerned.placed)
        if (diff.expectedCount !== read.status.messages) {
          // The changes since the baseline do not add up to the server's count (an expunge the server did not
          // report, a backup that missed something): compare the whole folder instead.
          read = await session.readFolder(f.server.mailbox, null)
          diff = diffFolder(await liveItems(catalog, cycle.accountId, [f.id]), read)
          this.stats.fullRereads++
        }
      }

      cycle.statuses.set(f, read.status)
      this.stats.listed += read.messages.length
      const {uidvalidity} = read.status
      changes.removed.push(...diff.removed)
      for (const message of diff.added) changes.added.push({folder: f, message, uidvalidity})
      for (const {item, message} of diff.kept) changes.kept.push({
        folder: f, item, message, uidvalidity,
      })
      for (const {item, message} of diff.flagged) changes.flagged.push({item, message})
    }

    for (const f of cycle.emptied) changes.removed.push(...byFolder.get(f.id) ?? [])
    for (const g of cycle.plan.gone) changes.removed.push(...byFolder.get(g.id) ?? [])
    return changes
  }

  /**
   * A folder's messages: what changed since its known status (or all of them, deep or without one), with the bodies
   * of the new ones (all, in a folder new to the backup) while the cycle's PREFETCH_BYTES last (kept for fetchChunk).
   */
  private async readFolder(f: PlannedFolder): Promise<FolderRead> {
    const baseline = !this.options.deep && f.known ? {uidvalidity: f.known.uidvalidity, highestmodseq: f.known.highestmodseq} : null
    const prefetch = {fromUid: f.known?.uidnext ?? 1, maxBytes: PREFETCH_BYTES - this.prefetchedBytes}
    const read = await this.options.session.readFolder(f.server.mailbox, baseline, prefetch)
    if (read.bodies && read.bodies.size > 0) {
      this.prefetched.set(f, {uidvalidity: read.status.uidvalidity, bodies: read.bodies})
      for (const body of read.bodies.values()) this.prefetchedBytes += body.length
    }

    return read
  }

  /** For each folder read incrementally, the backup's items that its changes name (liveItemsAtUids). */
  private async concernedItems(cycle: Cycle, reads: Map<PlannedFolder, FolderRead>): Promise<Awaited<ReturnType<typeof liveItemsAtUids>>> {
    const incremental = [...reads].filter(([, read]) => !read.complete).map(([f, read]) => ({
      folder: f.id, uidvalidity: read.status.uidvalidity, uids: [...read.messages.map(m => m.uid), ...read.vanished],
    }))
    if (cycle.accountId === null || incremental.length === 0) return new Map()
    return liveItemsAtUids(this.options.catalog, cycle.accountId, incremental)
  }

  /**
   * The content of every new message, in batches bounded in bytes. A new message that is an item removed elsewhere
   * in this cycle (a MOVE, or a mailbox re-numbered by a new UIDVALIDITY; see pickCandidate) is that item at its new
   * place: it keeps its id and history.
   * @yields the batches so far, whenever one is full
   */
  private async * newMessages(batch: Batch, cycle: Cycle, changes: Changes, signal: AbortSignal): AsyncGenerator<Array<FeedEntry<ImapAccountPosition>>> {
    const pool = new Map<string, BackupItem[]>()
    for (const item of changes.removed) {
      if (!item.digest) continue
      const list = pool.get(item.digest) ?? []
      list.push(item)
      pool.set(item.digest, list)
    }

    const lateMoves = cycle.accountId === null ? undefined : this.lateMoves(cycle, changes, cycle.accountId)
    for await (const {bodies, chunk, streamed} of this.fetchNew(changes)) {
      throwIfAborted(signal)
      const fresh: StoredContent[] = []
      const arrivals: NewArrival[] = []
      for (const {folder, message, uidvalidity} of chunk) {
        const bytes = bodies.get(message.uid)
        const large = streamed.get(message.uid)
        const locator = locatorOf(uidvalidity, message.uid)
        let content: ContentRef & {digest: string}
        if (bytes) {
          const stored: StoredContent = {
            bytes, digest: sha256(bytes), size: bytes.length, locator,
          }
          fresh.push(stored)
          content = stored
          batch.bytes += bytes.length
        } else if (large) {
          // Already in the blob store (or hashed, blobless): the batch holds no bytes of it.
          content = {...large, locator}
        } else {
          // Expunged since the listing: the next scan sees it gone.
          continue
        }

        this.stats.bytesRead += content.size!
        arrivals.push({
          folder, message, uidvalidity, content, digest: content.digest, previous: pickCandidate(pool.get(content.digest), {folder: folder.id, message, uidvalidity}),
        })
      }

      const earlier = await lateMoves?.find(arrivals.filter(a => !a.previous)) ?? new Map<Arrival, EarlierItem>()
      for (const arrival of arrivals) this.addArrival(batch, changes, arrival, earlier.get(arrival))

      // Into the blob store now, outside the batch's database transaction, which the scans of other accounts wait
      // for: the applier then finds each blob there and only records it.
      if (!this.options.blobless) await storeBlobs(this.options.blobs, fresh, this.unsyncedDirs)
      if (batch.full) yield await this.take(batch, cycle.intermediate())
      this.options.onProgress?.(this.stats)
    }
  }

  private lateMoves(cycle: Cycle, changes: Changes, accountId: number): LateMoves {
    return new LateMoves({
      catalog: this.options.catalog,
      session: this.options.session,
      accountId,
      previousCommitAt: cycle.previousCommitAt,
      previous: cycle.start,
      mailboxOf: folderMailboxes(cycle),
      taken: new Set(changes.removed.map(item => item.id)),
    })
  }

  /**
   * A new message into the batch: an item removed elsewhere in this cycle (`previous`: a MOVE, or a mailbox
   * re-numbered by a new UIDVALIDITY) or found by LateMoves keeps its id and history; any other is a new item.
   */
  private addArrival(batch: Batch, changes: Changes, arrival: NewArrival, late: EarlierItem | undefined): void {
    const {content, folder, message, uidvalidity} = arrival
    const metadata = metadataOf(message)
    if (arrival.previous) changes.matched.add(arrival.previous)
    else if (late && !late.revived) changes.movedLate.add(late.item.id)
    // Deleted from another folder by the previous cycle: the deletion was this MOVE's first half, which the move
    // replaces. Recorded earlier, the deletion was the user's, and the message is back (a restore): it stays deleted
    // until now, and lives again from now on under its own id.
    const undoesDeletion = late?.revived === true && late.moveHalf && late.item.folder !== folder.id
    const previous = arrival.previous ?? (late?.revived && !undoesDeletion ? undefined : late?.item)
    if (previous) {
      // Elsewhere: a MOVE (item.moved, with its new place and flags); in the same folder: the mailbox renumbered.
      const data = {
        item: previous.id, folder: folder.id, flags: message.flags, metadata, content,
      }
      batch.add(previous.folder === folder.id
        ? {op: 'item.modified', data}
        : {op: 'item.moved', data: undoesDeletion ? {...data, undoesDeletion} : data}, Number(message.modseq))
      this.stats.moved++
      return
    }

    // A message deleted a moment ago comes back to the same folder under its own id (LateMoves: an undelete, a
    // message put back): one history, nothing to undelete, and the deletion stays the one the user made.
    const item = late?.item.id ?? itemIdOf(folder.id, uidvalidity, message.uid)
    batch.add({
      op: 'item.created', data: {
        item, type: 'message', folder: folder.id, flags: message.flags, tags: [], metadata, content,
      },
    }, Number(message.modseq))
    if (late) this.stats.moved++
    else this.stats.created++
  }

  /** How many messages of a large new folder are listed at a time (LIST_WINDOW unless a test sets it). */
  private get listWindow(): number {
    return this.options.listWindow ?? LIST_WINDOW
  }

  /**
   * The bodies of the new messages, a chunk at a time: first of those readChanges listed, then of each folder it
   * listed by UID only (listedByWindow), whose metadata is read a window at a time as the scan reaches it.
   * @yields each chunk with its bodies
   */
  private async * fetchNew(changes: Changes): AsyncGenerator<FetchedChunk> {
    yield * this.fetchAhead(changes.added)
    for (const {folder, uids, uidvalidity} of changes.unlisted) {
      for (let start = 0; start < uids.length; start += this.listWindow) {
        // UIDs only grow: the range between a window's first and last UID holds that window's messages and no other.
        const last = uids[Math.min(start + this.listWindow, uids.length) - 1]
        const read = await this.options.session.readMessages(folder.server.mailbox, uids[start], last)
        // Items and locators are named after the UIDVALIDITY the folder was listed with: a mailbox re-created since
        // holds other messages under those UIDs. This scan stops there; the next one sees the new UIDVALIDITY.
        if (read.status.uidvalidity !== uidvalidity) {
          throw new Error(`${folder.server.path} changed UIDVALIDITY during the scan (${uidvalidity}, now ${read.status.uidvalidity})`)
        }

        this.stats.listed += read.messages.length
        yield * this.fetchAhead(read.messages.map(message => ({folder, message, uidvalidity})))
      }
    }
  }

  /** The bodies of `placed`, a chunk at a time, each chunk fetched while the one before it is worked on. */
  private fetchAhead(placed: readonly Placed[]): AsyncGenerator<FetchedChunk> {
    // The next chunk's bodies travel while this one is hashed, stored and applied: the server, the network and our
    // CPU work at once instead of in turn (one connection: imapflow sends the FETCH as soon as it can).
    return mapAhead(chunks(placed, fetchBounds(this.options)), chunk => this.fetchChunk(chunk), 1)
  }

  /**
   * The batch, once the directory entries of the blobs written for it are on disk: each blob file was fsynced
   * before its rename, and the renames must be durable before the catalog commit names the blobs.
   */
  private async take(batch: Batch, position: ImapAccountPosition): Promise<Array<FeedEntry<ImapAccountPosition>>> {
    if (this.unsyncedDirs.size > 0) {
      const dirs = [...this.unsyncedDirs]
      this.unsyncedDirs.clear()
      await this.options.blobs.syncDirectories(dirs)
    }

    return batch.take(position)
  }

  private async bodies(mailbox: string, uids: number[]): Promise<Map<number, Buffer>> {
    await this.options.beforeBodies?.()
    return this.options.session.bodies(mailbox, uids)
  }

  /**
   * A chunk's bodies, fetched now; a failure surfaces where the chunk is awaited (or nowhere, if never). A large
   * message (alone in its chunk: see chunks()) is stored as it arrives instead (streamLarge).
   */
  private async fetchChunk(chunk: Placed[]): Promise<FetchedChunk> {
    const {folder, message} = chunk[0]
    const early = this.prefetched.get(folder)
    if (early && chunk.every(p => p.uidvalidity === early.uidvalidity && early.bodies.has(p.message.uid))) {
      const bodies = new Map(chunk.map(p => [p.message.uid, early.bodies.get(p.message.uid)!]))
      for (const p of chunk) early.bodies.delete(p.message.uid)
      return {bodies, chunk, streamed: new Map()}
    }

    if (chunk.length === 1 && message.size >= LARGE_CONTENT_BYTES) {
      await this.options.beforeBodies?.()
      const large = await this.streamLarge(folder.server.mailbox, message)
      if (large) return {bodies: new Map(), chunk, streamed: new Map([[message.uid, large]])}
    }

    return {bodies: await this.bodies(folder.server.mailbox, chunk.map(p => p.message.uid)), chunk, streamed: new Map()}
  }

  /**
   * A large message read in pieces into the blob store (BlobStore.putStream; blobless: only hashed), so that memory
   * holds a piece of it, not the message several times over (imapflow's buffers, the writer thread's copy, the batch's
   * until it commits). Undefined when what arrived is not RFC822.SIZE long: expunged meanwhile, or a server whose sizes
   * are not exact; the caller then reads it whole, as any other, which tells the two apart.
   */
  private async streamLarge(mailbox: string, message: MessageMeta): Promise<StreamedContent | undefined> {
    if (this.options.blobless) return this.options.session.digestOf(mailbox, message)
    const stored = await this.options.blobs.putStream(this.options.session.bodyPieces(mailbox, message.uid), {size: message.size})
    if (!stored.ok) return undefined
    if (stored.written) this.unsyncedDirs.add(path.dirname(this.options.blobs.pathOf(stored.digest)))
    return {digest: stored.digest, size: stored.size, storedSize: stored.storedSize}
  }

  /**
   * Deep: every content the backup has for what is still on the server, read again and its digest compared.
   * @yields the batches so far, whenever one is full
   */
  private async * verify(batch: Batch, cycle: Cycle, changes: Changes, signal: AbortSignal): AsyncGenerator<Array<FeedEntry<ImapAccountPosition>>> {
    // A message moved away since its folder was read is verified at its new place by the next deep scan.
    for (const chunk of chunks(changes.kept.filter(k => !changes.movedLate.has(k.item.id)), this.options)) {
      throwIfAborted(signal)
      const contents = await this.readKept(chunk)
      for (const {folder, item, message, uidvalidity} of chunk) {
        const read = contents.get(message.uid)
        if (!read) continue
        this.stats.bytesRead += read.size
        const {digest} = read
        const blob = this.options.blobless ? 'intact' : (item.contentMissing ? 'missing' : await this.blobState(digest))
        if (digest === item.digest && blob === 'intact') {
          this.stats.verified++
          continue
        }

        const locator = locatorOf(uidvalidity, message.uid)
        let content: ContentRef
        if (read.bytes) {
          content = {
            bytes: read.bytes, digest, size: read.size, locator,
          }
          batch.bytes += read.size
        } else {
          // Large: hashed as it arrived, now stored as it arrives again (repairs are rare, a verified one is not).
          const large = await this.streamLarge(folder.server.mailbox, message)
          // Changed or gone since it was hashed: the next scan sees what it is now.
          if (!large || large.digest !== digest) continue
          content = {...large, locator}
        }

        const why = digest === item.digest
          ? (blob === 'missing' ? 'its content was missing from the backup' : `its content in the backup was corrupt (${blob}), moved to quarantine`)
          : `its content differs from the backup (digest ${item.digest ?? 'none'})`
        this.stats.warnings.push(`item ${item.id} in ${folder.server.path}: ${why}; recorded again from the server`)
        batch.add({op: 'item.modified', data: {item: item.id, content}}, Number(message.modseq))
        this.stats.repaired++
      }

      if (batch.full) yield await this.take(batch, cycle.intermediate())
      this.options.onProgress?.(this.stats)
    }
  }

  /**
   * Deep: whether the backup's file of a content reads back to its digest. Existence is not enough: a file whose bytes
   * rotted would be kept for ever, since the store writes a digest only when no file has its name, and a restore
   * of it would fail. A corrupt file goes to quarantine (kept, as the Coherency Check keeps it), so that the repair
   * can store the server's bytes under that name. Once per digest and cycle: duplicates share one file.
   * @returns 'intact', 'missing', or why the file is corrupt
   */
  private blobState(digest: string): Promise<string> {
    let state = this.blobStates.get(digest)
    if (!state) {
      state = (async () => {
        const {blobs} = this.options
        const verdict = await verifyBlobFile(blobs.pathOf(digest), digest)
        if (verdict.status === 'ok') return 'intact'
        if (verdict.status === 'missing') return 'missing'
        this.quarantine ??= new Quarantine(blobs.home, Date.now())
        try {
          await this.quarantine.move(path.relative(blobs.home, blobs.pathOf(digest)), 'corruptBlobs', `deep SmartScan: ${verdict.detail}`, digest)
        } catch (error) {
          // A Coherency Check running at the same time moved it first: missing now, and stored again all the same.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
          throw error
        }

        return verdict.detail
      })()
      this.blobStates.set(digest, state)
    }

    return state
  }

  /**
   * The contents of kept messages as the server has them now, to compare with the backup: read whole, or, for a large
   * message alone in its chunk, only hashed as it arrives (as fetchChunk stores it).
   */
  private async readKept(chunk: readonly Placed[]): Promise<Map<number, {bytes?: Buffer; digest: string; size: number}>> {
    const {folder, message} = chunk[0]
    if (chunk.length === 1 && message.size >= LARGE_CONTENT_BYTES) {
      await this.options.beforeBodies?.()
      const hashed = await this.options.session.digestOf(folder.server.mailbox, message)
      if (hashed) return new Map([[message.uid, hashed]])
    }

    const bodies = await this.bodies(folder.server.mailbox, chunk.map(p => p.message.uid))
    return new Map([...bodies].map(([uid, bytes]) => [uid, {bytes, digest: sha256(bytes), size: bytes.length}]))
  }
}

/** One cycle's view of the account: the folder plan and the positions it moves between. */
interface Cycle {
  accountId: null | number
  /** When the account's previous cycle that changed something committed: the deletions it recorded are that old. */
  previousCommitAt: null | number
  /**
   * The position the cycle began from: the previous cycle's, with when that cycle began and, when it recorded
   * deletions, its folders' UIDNEXT at its end (EMPTY_POSITION for a fresh account).
   */
  start: ImapAccountPosition
  fresh: boolean
  plan: FolderPlan
  toRead: PlannedFolder[]
  emptied: PlannedFolder[]
  /** Each folder's status as read (EXAMINE for the folders read, LIST-STATUS for the others): the final position. */
  statuses: Map<PlannedFolder, FolderStatus>
  final(): ImapAccountPosition
  /** The position of a batch before the last one: a new one each time (see `cycle` in ImapAccountPosition). */
  intermediate(): ImapAccountPosition
}

interface Changes {
  removed: BackupItem[]
  /** Removed items found again among the added messages. */
  matched: Set<BackupItem>
  /** Items still in a folder when it was read, found moved since (LateMoves). */
  movedLate: Set<string>
  added: Placed[]
  /** Folders new to the backup listed by UID only (listedByWindow): all their messages are new. */
  unlisted: Array<{folder: PlannedFolder; uids: number[]; uidvalidity: number}>
  kept: Array<Placed & {item: BackupItem}>
  flagged: Array<{item: BackupItem; message: MessageMeta}>
}

/** Why a new account is uncertain until its first capture ends. */
export const FIRST_CAPTURE_UNFINISHED = 'its first SmartScan has not finished: the backup may hold only part of its mail'

type TransactionBody = Transaction extends infer T ? T extends Transaction ? Pick<T, 'data' | 'op'> : never : never

/** The transactions of the batch being built, and how much content they hold. */
class Batch {
  bytes = 0
  private entries: Array<{transaction: Transaction}> = []

  constructor(
    private readonly account: string,
    private readonly options: Pick<AccountFeedOptions, 'batchBytes' | 'batchSize'>,
  ) {}

  get full(): boolean {
    return this.bytes >= (this.options.batchBytes ?? DEFAULT_BATCH_BYTES) || this.entries.length >= (this.options.batchSize ?? DEFAULT_BATCH_SIZE)
  }

  get size(): number {
    return this.entries.length
  }

  add(body: TransactionBody, seq: number, doubt?: Transaction['doubt']): void {
    const transaction = {
      ...body, seq, time: Date.now(), account: this.account, origin: {source: `imap ${this.account}`}, ...(doubt ? {doubt} : {}),
    } as Transaction
    this.entries.push({transaction})
  }

  /** The batch so far as feed entries, all at `position`; a new batch starts. */
  take(position: ImapAccountPosition): Array<FeedEntry<ImapAccountPosition>> {
    const entries = this.entries.map(({transaction}) => ({kind: 'transaction' as const, transaction, position}))
    this.entries = []
    this.bytes = 0
    return entries
  }
}

/**
 * The position while a cycle is under way: the start one, plus every folder under the id this cycle gave it, at
 * its old status (a new folder at none): a cycle interrupted now is redone from the same baselines.
 */
function intermediatePosition(start: ImapAccountPosition, folders: readonly PlannedFolder[]): ImapAccountPosition {
  const result: Record<string, ImapFolderPosition> = {...start.folders}
  for (const f of folders) {
    result[f.id] = f.known ? {...f.known, path: f.server.path} : {...NO_STATUS, uidvalidity: f.server.status?.uidvalidity ?? 0, path: f.server.path}
  }

  return {folders: result}
}

/** Each call, `position` named after one more batch of this cycle, so that no other cycle can commit after it. */
function midway(position: ImapAccountPosition): () => ImapAccountPosition {
  return () => ({...position, cycle: randomUUID()})
}

/** A new message's content, which storeBlobs puts in the blob store before the batch's transaction. */
interface StoredContent extends ContentRef {
  bytes: Buffer
  digest: string
}

/** A large message's content, stored (or hashed, blobless) as it arrived: its digest and size, not its bytes. */
interface StreamedContent {
  digest: string
  size: number
  storedSize?: number
}

/** The new messages of one FETCH: the bodies read whole, and the large ones stored as they arrived. */
interface FetchedChunk {
  chunk: Placed[]
  bodies: Map<number, Buffer>
  streamed: Map<number, StreamedContent>
}

/** Stores the contents and marks each as stored (ContentRef.storedSize): the scanner then neither hashes nor stores it again. */
async function storeBlobs(blobs: BlobStore, contents: StoredContent[], dirs: Set<string>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < contents.length) {
      const content = contents[next++]
      // Lent: the bytes travel to the writer thread and back instead of being copied; the batch keeps them until it
      // commits (to store them again if a purge removed the blob meanwhile).
      const stored = await blobs.put(content.bytes, content.digest, {lend: true})
      content.bytes = stored.content
      if (stored.written) dirs.add(path.dirname(blobs.pathOf(content.digest)))
      content.storedSize = stored.storedSize
    }
  }

  await Promise.all(Array.from({length: Math.min(4, contents.length)}, worker))
}

/** Each folder of the cycle's plan to its mailbox on the server. */
function folderMailboxes(cycle: Cycle): (folderId: string) => string | undefined {
  const mailboxes = new Map(cycle.plan.folders.map(f => [f.id, f.server.mailbox]))
  return folderId => mailboxes.get(folderId)
}

/**
 * Among removed items with the same digest, the one the new message is at its new place, preferring the same
 * Message-ID and internal date. One with another internal date is another message (a MOVE keeps the date): the
 * bytes uploaded again after the user deleted the first must not erase that deletion. Only a mailbox re-numbered by
 * a new UIDVALIDITY, whose messages a server may date anew, has its items matched back whatever their dates.
 */
function pickCandidate(candidates: BackupItem[] | undefined, arrival: {folder: string; message: MessageMeta; uidvalidity: number}): BackupItem | undefined {
  if (!candidates) return undefined
  const {message} = arrival
  let best = -1
  for (const [i, candidate] of candidates.entries()) {
    // An item of this folder that the connector never placed (undefined place) counts as renumbered: it has no UID here.
    const renumbered = candidate.folder === arrival.folder && candidate.place?.uidvalidity !== arrival.uidvalidity
    if (!renumbered && otherInternalDate(candidate.metadata, message)) continue
    if (best < 0 || likeness(candidate.metadata, message) > likeness(candidates[best].metadata, message)) best = i
  }

  return best < 0 ? undefined : candidates.splice(best, 1)[0]
}

/** What a message revision keeps besides flags and content. */
function metadataOf(message: MessageMeta): Record<string, unknown> {
  const {messageId, ...rest} = message.headers
  return {
    ...(messageId ? {messageId} : {}), ...rest, internalDate: isoOrNull(message.internalDate),
  }
}

function isoOrNull(ms: null | number): null | string {
  return ms === null ? null : new Date(ms).toISOString()
}

/**
 * A folder with more messages than this that the backup has nothing of (new to it, as every folder of an initial
 * capture is) is listed by UID, and the metadata of its messages read this many at a time as the scan reaches them:
 * about 700 bytes a message with the headers kept. Listed whole, an account of 50,000 messages held some 35 MB of it
 * from before its first body until its last batch, in every account scanned at once (16), most of them waiting for
 * a transfer slot. A folder the backup has items in is listed whole, to be compared with them.
 */
const LIST_WINDOW = 2000

function listedByWindow(f: PlannedFolder, window: number): boolean {
  return !f.known && f.change === 'folder.created' && (f.server.status?.messages ?? 0) > window
}

/**
 * A FETCH of bodies carries at most this much (or the batch's bound, when smaller): chunks small enough to overlap. A
 * message of LARGE_CONTENT_BYTES or more is therefore alone in its chunk, and stored as it arrives (fetchChunk).
 */
const FETCH_BYTES = 4 * 1024 * 1024
const FETCH_MESSAGES = 100
/**
 * An incremental read fetches the bodies of its folder's new messages at once, up to this much per cycle (bodies
 * held from the listing until the scan reaches them, outside the transfer slots): the few new messages of most
 * cycles come without a second EXAMINE and FETCH per changed folder.
 */
const PREFETCH_BYTES = 2 * 1024 * 1024

function fetchBounds(options: Pick<AccountFeedOptions, 'batchBytes' | 'batchSize'>): Pick<AccountFeedOptions, 'batchBytes' | 'batchSize'> {
  return {
    batchBytes: Math.min(FETCH_BYTES, options.batchBytes ?? DEFAULT_BATCH_BYTES),
    batchSize: Math.min(FETCH_MESSAGES, options.batchSize ?? DEFAULT_BATCH_SIZE),
  }
}

/**
 * Work split by folder (one UID FETCH each) and bounded in bytes and count.
 * @yields one chunk at a time
 */
function * chunks<T extends {folder: PlannedFolder; message: MessageMeta}>(
  work: readonly T[],
  options: Pick<AccountFeedOptions, 'batchBytes' | 'batchSize'>,
): Generator<T[]> {
  const maxBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES
  const maxCount = options.batchSize ?? DEFAULT_BATCH_SIZE
  let chunk: T[] = []
  let bytes = 0
  for (const entry of work) {
    if (chunk.length > 0 && (chunk[0].folder !== entry.folder || bytes + entry.message.size > maxBytes || chunk.length >= maxCount)) {
      yield chunk
      chunk = []
      bytes = 0
    }

    chunk.push(entry)
    bytes += entry.message.size
  }

  if (chunk.length > 0) yield chunk
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const value of values) {
    const k = key(value)
    const list = groups.get(k) ?? []
    list.push(value)
    groups.set(k, list)
  }

  return groups
}
