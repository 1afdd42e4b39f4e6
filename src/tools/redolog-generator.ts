/**
 * A deterministic generator of realistic redologs (format v1, docs/redolog.md): accounts with the Carbonio system
 * folders, user subfolders, and a day of a mail server's life repeated: mostly deliveries and flag changes, some
 * moves, copies, tags, edits and deletions, folder work, rare account changes. Messages are RFC 822 with real
 * headers; the same message delivered to several recipients, shared attachments and shared documents give the
 * backup's blob store something to deduplicate. The same seed and options give byte-identical redolog lines
 * (content paths aside, which embed the store directory) and content files.
 *
 * It streams: the generator keeps only the live state it needs to choose valid operations (a few int32 per live
 * item), never the transactions or the content it produced, so 1,000,000 transactions fit well under 256 MB.
 */
import {createHash} from 'node:crypto'
import {
  closeSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync,
} from 'node:fs'
import path from 'node:path'
import {setImmediate as nextTick} from 'node:timers/promises'

import {
  type ContentRef,
  type FolderData,
  ITEM_TYPES,
  type ItemType,
  type Transaction,
  TRANSACTION_OPS,
  type TransactionOp,
} from '../engine/appserver/transaction.js'

export type TimeFormat = 'iso' | 'iso-offset' | 'ms'

export interface GeneratorOptions {
  /** Accounts created at the start of the log (a few more come and go later). */
  accounts: number
  /** Bytes of a message or document: log-uniform between min and max. Default 2 KiB to 50 KiB. */
  blobSize?: {max: number; min: number}
  firstSeq?: number
  /** Content up to this size travels inline (base64) instead of as a store file. Default 2048. */
  inlineMaxBytes?: number
  /**
   * No content bytes at all (the metadata-only benchmark): messages and documents carry a content reference (path,
   * size, made-up digest) to a file that is never written, since the format requires one; others carry none.
   */
  metadataOnly?: boolean
  /** Relative weights of the operations; the missing ones keep their default (DEFAULT_MIX). */
  mix?: Partial<Record<TransactionOp, number>>
  seed?: number
  /**
   * The last transaction is at this time or before (ms, ISO string or Date): gaps shrink near the end if they must.
   * With endTime and no spacingMs, the mean gap is 95% of (endTime - startTime) / transactions.
   */
  endTime?: Date | number | string
  /** Mean gap between transactions (exponential, at least 1 ms, so times strictly increase). Default 1000. */
  spacingMs?: number
  /** Time of the first transaction: ms, ISO string or Date. Default 2025-01-06T08:00:00Z (fixed, for determinism). */
  startTime?: Date | number | string
  /** Where content files go, as <storeDir>/<2 hex>/<sha256>; needed unless metadataOnly. */
  storeDir?: string
  /** Total number of transactions (lines). */
  transactions: number
}

export interface RedologOptions extends GeneratorOptions {
  /** Called with each transaction after its line is written (origin = file and line). */
  onTransaction?: (tx: Transaction) => void
  /** Must not hold a redolog already: a second log in one directory would break the seq order. */
  redologDir: string
  /** Lines per file before rotating to redo-<next seq>.log. Default 100,000. */
  rotateEvery?: number
  signal?: AbortSignal
  /** How `time` is written: ISO 8601 UTC (default), ISO 8601 with a +02:00 offset, or ms since the epoch. */
  timeFormat?: TimeFormat
}

export interface RedologSummary {
  seed: number
  transactions: number
  firstSeq: number | null
  lastSeq: number | null
  firstTime: string | null
  lastTime: string | null
  ops: Record<TransactionOp, number>
  /** item.created per type. */
  itemsCreated: Record<ItemType, number>
  accountsCreated: number
  /** State at the end of the log, for cross-checks against a model. */
  liveAccounts: number
  liveFolders: number
  liveItems: number
  /** Transactions that carry content, and the bytes they reference (with repeats). */
  contentRefs: number
  contentBytes: number
  /** Distinct contents (by digest) and their bytes: contentBytes / distinctBytes is the dedup ratio. */
  distinctBlobs: number
  distinctBytes: number
  inlineBlobs: number
  storeFiles: number
  storeBytes: number
  redologFiles: number
  redologBytes: number
}

/** Default weights, in percent of the actions chosen after the initial accounts exist. */
export const DEFAULT_MIX: Readonly<Record<TransactionOp, number>> = {
  'item.created': 44,
  'item.flags': 28,
  'item.moved': 7,
  'item.deleted': 6,
  'item.tags': 5,
  'item.modified': 4,
  'item.copied': 2,
  'folder.created': 1.5,
  'folder.renamed': 0.6,
  'folder.moved': 0.4,
  'folder.deleted': 0.3,
  'folder.emptied': 0.15,
  'account.modified': 0.04,
  'account.created': 0.005,
  'account.deleted': 0.005,
  'account.renamed': 0.005,
}

export const DEFAULT_START_TIME = Date.parse('2025-01-06T08:00:00Z')

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG; the same seed gives the same sequence on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D_2B_79_F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

class Random {
  readonly next: () => number

  constructor(seed: number) {
    this.next = mulberry32(seed)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  hex(length: number): string {
    let out = ''
    while (out.length < length) out += ((this.next() * 4_294_967_296) >>> 0).toString(16).padStart(8, '0')
    return out.slice(0, length)
  }

  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  logUniform(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + (this.next() * (Math.log(max) - Math.log(min)))))
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]
  }
}

// Carbonio's fixed ids for the system folders; user folders and items share one id sequence from 257.
const FIRST_ID = 257
const INBOX = 2
const TRASH = 3
const SENT = 5
const DRAFTS = 6
const SYSTEM_FOLDERS = [
  {id: INBOX, name: 'Inbox', view: 0},
  {id: SENT, name: 'Sent', view: 0},
  {id: DRAFTS, name: 'Drafts', view: 0},
  {id: TRASH, name: 'Trash', view: 0},
  {id: 7, name: 'Contacts', view: 1},
  {id: 10, name: 'Calendar', view: 2},
  {id: 15, name: 'Tasks', view: 3},
  {id: 16, name: 'Briefcase', view: 4},
] as const
/** Default folder per item type, in ITEM_TYPES order. */
const HOME_FOLDER = [INBOX, 7, 10, 15, 16]
const MESSAGE = 0
/** Item types of new items, in ITEM_TYPES order (percent). */
const TYPE_WEIGHTS = [80, 7, 6, 3, 4]
const MAX_USER_FOLDERS = 30
const MAX_DEPTH = 4

const FLAGS = [String.raw`\Seen`, String.raw`\Answered`, String.raw`\Flagged`, String.raw`\Draft`, '$Forwarded'] as const
const FLAG_WEIGHTS = [55, 15, 20, 2, 8]
const SEEN = 1
const DRAFT = 8
const FLAGGED = 4
const TAGS = ['Work', 'Personal', 'Important', 'Later', 'Finance', 'Travel', 'Family', 'Follow up'] as const

const FIRST_NAMES = (
  'alice bruno chiara daniel elena fabio giulia hans irene jonas karin luca marta nadia oscar paola '
  + 'quentin rosa sergio tania ugo valeria walter xenia yusuf zoe anna marco sofia pietro laura davide'
).split(' ')
const LAST_NAMES = (
  'rossi bianchi muller schmidt dupont martin garcia lopez smith jones conti ferrari esposito ricci '
  + 'marino greco bruno gallo costa fontana weber wagner moreau laurent novak kowalski silva santos brown '
  + 'taylor'
).split(' ')
const DOMAINS = ['example.com', 'example.org', 'corp.example.net']
const EXTERNAL_DOMAINS = ['partner.example', 'supplier.example', 'lists.example.info', 'customer.example']
const FOLDER_NAMES = (
  'Projects Clients Archive 2023 2024 Receipts Newsletters Team Invoices Travel Family Old Reports '
  + 'Meetings Suppliers Hiring Legal Support Ideas Personal'
).split(' ')
const WORDS = (
  'the of and to in is that for it as with was on be at by this had not are but from or have an they which one you '
  + 'were all we when there can more if no out so said what up its about into than them only other time new some '
  + 'could these two may first then do any like my now over such our man me even most made after also did many '
  + 'before must through back years where much your way well down should because each just those people how too '
  + 'little state good very make world still own see men work long get here between both life being under never day '
  + 'same another know while last might us great old year off come since against go came right used take three '
  + 'meeting project budget invoice quarter report deadline review customer supplier contract delivery schedule '
  + 'proposal agenda minutes server backup mailbox migration release version update please thanks regards attached'
).split(' ')
const SUBJECT_WORDS = (
  'budget meeting invoice report contract release backup migration offsite training roadmap review '
  + 'holidays order shipment renewal agenda minutes draft proposal'
).split(' ')
const ATTACHMENT_KINDS = [
  {ext: 'pdf', type: 'application/pdf'},
  {ext: 'png', type: 'image/png'},
  {ext: 'jpg', type: 'image/jpeg'},
  {ext: 'docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'},
  {ext: 'xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'},
  {ext: 'zip', type: 'application/zip'},
]
const ATTACHMENT_POOL = 48
const SHARED_DOCUMENT_POOL = 16
const RECENT_MESSAGES = 32
const LOCALES = ['en_US', 'it', 'de', 'fr', 'es', 'pt_BR']
const TIME_ZONES = ['Europe/Rome', 'Europe/Berlin', 'Europe/Paris', 'America/New_York', 'UTC', 'Asia/Tokyo']
const QUOTAS = [0, 1_073_741_824, 5_368_709_120, 10_737_418_240]
const COSES = ['default', 'basic', 'premium']

interface GenFolder {
  id: number
  name: string
  /** -1 for a top-level folder. */
  parent: number
  /** Index in ITEM_TYPES of what the folder holds. */
  view: number
  system: boolean
}

// Per-item columns, in one Int32Array indexed by (id - FIRST_ID) * STRIDE.
const STRIDE = 5
const POS = 0
const FOLDER = 1
const TYPE = 2
const MARKS = 3 // flags in bits 0-7, tags in bits 8-15
const VERSION = 4

/** What the generator must know of one account to choose valid operations: a few numbers per live item. */
class GenAccount {
  cos: string
  readonly folders = new Map<number, GenFolder>()
  /** Live item ids; the column POS is an item's index here, so a random pick and a removal are O(1). */
  readonly live: number[] = []
  nextId = FIRST_ID
  settings: Record<string, number | string>
  private cols = new Int32Array(64 * STRIDE)

  constructor(
    public name: string,
    readonly id: string,
    readonly displayName: string,
    random: Random,
  ) {
    this.cos = random.pick(COSES)
    this.settings = {
      displayName,
      zimbraPrefLocale: random.pick(LOCALES),
      zimbraPrefTimeZoneId: random.pick(TIME_ZONES),
      zimbraMailQuota: random.pick(QUOTAS),
    }
  }

  get domain(): string {
    return this.name.slice(this.name.indexOf('@') + 1)
  }

  addItem(id: number, {folder, marks, type, version}: ItemSlot): void {
    const base = (id - FIRST_ID) * STRIDE
    if (base + STRIDE > this.cols.length) {
      const grown = new Int32Array(Math.max(this.cols.length * 2, base + STRIDE))
      grown.set(this.cols)
      this.cols = grown
    }

    this.cols[base + POS] = this.live.length
    this.cols[base + FOLDER] = folder
    this.cols[base + TYPE] = type
    this.cols[base + MARKS] = marks
    this.cols[base + VERSION] = version
    this.live.push(id)
  }

  depth(id: number): number {
    let depth = 0
    for (let f = this.folders.get(id); f && f.parent !== -1; f = this.folders.get(f.parent)) depth++
    return depth
  }

  get(id: number, column: number): number {
    return this.cols[((id - FIRST_ID) * STRIDE) + column]
  }

  isUnder(id: number, ancestor: number): boolean {
    for (let f = this.folders.get(id); f; f = this.folders.get(f.parent)) if (f.id === ancestor) return true
    return false
  }

  path(id: number): string {
    const names: string[] = []
    for (let f = this.folders.get(id); f; f = this.folders.get(f.parent)) names.push(f.name)
    return '/' + names.reverse().join('/')
  }

  removeItem(id: number): void {
    const pos = this.get(id, POS)
    const last = this.live.pop()!
    if (last !== id) {
      this.live[pos] = last
      this.set(last, POS, pos)
    }
  }

  /** Removes every live item whose folder is in `folders`; returns how many. */
  removeItemsIn(folders: Set<number>): number {
    let removed = 0
    for (let i = this.live.length - 1; i >= 0; i--) {
      const id = this.live[i]
      if (folders.has(this.get(id, FOLDER))) {
        this.removeItem(id)
        removed++
      }
    }

    return removed
  }

  set(id: number, column: number, value: number): void {
    this.cols[((id - FIRST_ID) * STRIDE) + column] = value
  }

  subtree(root: number): Set<number> {
    const result = new Set<number>()
    for (const folder of this.folders.values()) if (this.isUnder(folder.id, root)) result.add(folder.id)
    return result
  }

  uniqueName(parent: number, wanted: string, except?: number): string {
    const taken = new Set<string>()
    for (const f of this.folders.values()) if (f.parent === parent && f.id !== except) taken.add(f.name)
    let name = wanted
    for (let n = 2; taken.has(name); n++) name = `${wanted} ${n}`
    return name
  }

  userFolders(): GenFolder[] {
    return [...this.folders.values()].filter(f => !f.system)
  }
}

interface ItemSlot {
  folder: number
  /** Flags in bits 0-7, tags in bits 8-15. */
  marks: number
  /** Index in ITEM_TYPES. */
  type: number
  version: number
}

interface Built {
  content?: ContentRef
  metadata: Record<string, unknown>
}

interface Attachment {
  base64: string
  name: string
  type: string
}

/** Produces transactions one at a time; see generateRedolog for the file-writing loop. */
export class RedologGenerator {
  private readonly accounts: GenAccount[] = []
  private readonly attachments: Attachment[] = []
  private clock: number
  private corpus = ''
  private readonly counters = {
    accountsCreated: 0,
    contentBytes: 0,
    contentRefs: 0,
    distinctBlobs: 0,
    distinctBytes: 0,
    inlineBlobs: 0,
    storeBytes: 0,
    storeFiles: 0,
  }
  private emitted = 0
  private readonly endTime?: number
  private firstTime?: number
  private head = 0
  private lastSeq?: number
  private lastTime?: number
  private readonly itemsCreated = Object.fromEntries(ITEM_TYPES.map(t => [t, 0])) as Record<ItemType, number>
  private readonly madeDirs = new Set<string>()
  private readonly mix: {cumulative: number[]; ops: TransactionOp[]}
  private readonly ops = Object.fromEntries(TRANSACTION_OPS.map(op => [op, 0])) as Record<TransactionOp, number>
  private readonly pending: Transaction[] = []
  private readonly random: Random
  private readonly recent: Built[] = []
  private seq: number
  private readonly spacing: number
  private readonly sharedDocuments: (Built | undefined)[] = []
  private readonly storeDir?: string
  private readonly usedNames = new Set<string>()
  /** One action per operation; false when it is impossible for that account. */
  private readonly actions: Record<TransactionOp, (account: GenAccount, room: number) => boolean> = {
    'account.created': (_, room) => this.createAccount(room),
    'account.deleted': account => this.deleteAccount(account),
    'account.modified': account => this.modifyAccount(account),
    'account.renamed': account => this.renameAccount(account),
    'folder.created': account => this.createFolder(account),
    'folder.deleted': account => this.deleteFolder(account),
    'folder.emptied': account => this.emptyFolder(account),
    'folder.moved': account => this.moveFolder(account),
    'folder.renamed': account => this.renameFolder(account),
    'item.copied': account => this.copyItem(account),
    'item.created': () => false,
    'item.deleted': account => this.deleteItem(account),
    'item.flags': account => this.flagItem(account),
    'item.modified': account => this.modifyItem(account),
    'item.moved': account => this.moveItem(account),
    'item.tags': account => this.tagItem(account),
  }

  constructor(private readonly options: GeneratorOptions) {
    validate(options)
    this.random = new Random(options.seed ?? 1)
    this.seq = options.firstSeq ?? 1
    this.clock = toMs(options.startTime ?? DEFAULT_START_TIME)
    this.endTime = options.endTime === undefined ? undefined : toMs(options.endTime)
    this.spacing = options.spacingMs ?? (this.endTime === undefined ? 1000 : (0.95 * (this.endTime - this.clock)) / Math.max(1, options.transactions))
    this.storeDir = options.storeDir === undefined ? undefined : path.resolve(options.storeDir)
    const weights = {...DEFAULT_MIX, ...options.mix}
    const ops = TRANSACTION_OPS.filter(op => weights[op] > 0)
    const cumulative: number[] = []
    for (const op of ops) cumulative.push((cumulative.at(-1) ?? 0) + weights[op])
    this.mix = {ops, cumulative}
  }

  /** The next transaction, or undefined when `transactions` have been produced. */
  next(): Transaction | undefined {
    if (this.emitted >= this.options.transactions) return undefined
    if (this.head === this.pending.length) {
      this.pending.length = 0
      this.head = 0
      this.act(this.options.transactions - this.emitted)
    }

    const tx = this.pending[this.head]
    this.firstTime ??= tx.time
    this.lastTime = tx.time
    this.lastSeq = tx.seq
    // Drop the reference so a consumer holding none keeps the garbage collector free to reclaim it.
    this.pending[this.head++] = undefined as unknown as Transaction
    this.emitted++
    return tx
  }

  summary(): Omit<RedologSummary, 'redologBytes' | 'redologFiles'> {
    let liveFolders = 0
    let liveItems = 0
    for (const account of this.accounts) {
      liveFolders += account.folders.size
      liveItems += account.live.length
    }

    return {
      seed: this.options.seed ?? 1,
      transactions: this.emitted,
      firstSeq: this.emitted === 0 ? null : (this.options.firstSeq ?? 1),
      lastSeq: this.lastSeq ?? null,
      firstTime: this.firstTime === undefined ? null : new Date(this.firstTime).toISOString(),
      lastTime: this.lastTime === undefined ? null : new Date(this.lastTime).toISOString(),
      ops: {...this.ops},
      itemsCreated: {...this.itemsCreated},
      liveAccounts: this.accounts.length,
      liveFolders,
      liveItems,
      ...this.counters,
    }
  }

  // ---- choosing what happens next -------------------------------------------------------------------------------

  private act(room: number): void {
    if (this.counters.accountsCreated < this.options.accounts || this.accounts.length === 0) {
      this.createAccount(room)
      return
    }

    const r = this.random.next() * this.mix.cumulative.at(-1)!
    let i = 0
    while (this.mix.cumulative[i] <= r) i++
    const op = this.mix.ops[i]
    const account = this.pickAccount()
    // An action that is impossible for this account (no items, no user folders) becomes a delivery instead.
    if (!this.actions[op](account, room)) this.createItem(account, room)
  }

  /** Some accounts are much busier than others. */
  private pickAccount(): GenAccount {
    return this.accounts[Math.floor(this.accounts.length * (this.random.next() ** 1.5))]
  }

  private push<O extends TransactionOp>(account: string, op: O, data: Extract<Transaction, {op: O}>['data']): void {
    const position = this.seq - (this.options.firstSeq ?? 1)
    if (position > 0) {
      this.clock += Math.max(1, Math.round(-Math.log(1 - this.random.next()) * this.spacing))
      // Leave at least 1 ms for each transaction still to come before endTime.
      if (this.endTime !== undefined) this.clock = Math.min(this.clock, this.endTime - (this.options.transactions - 1 - position))
    }

    this.ops[op]++
    const {content} = (data as {content?: ContentRef})
    if (content) {
      this.counters.contentRefs++
      this.counters.contentBytes += content.size ?? 0
    }

    this.pending.push({
      seq: this.seq++, time: this.clock, account, op, data, origin: {source: 'generator'},
    } as Transaction)
  }

  // ---- accounts -------------------------------------------------------------------------------------------------

  private createAccount(room: number): boolean {
    const {random} = this
    const first = random.pick(FIRST_NAMES)
    const last = random.pick(LAST_NAMES)
    const domain = random.pick(DOMAINS)
    let name = `${first}.${last}@${domain}`
    for (let n = 2; this.usedNames.has(name); n++) name = `${first}.${last}${n}@${domain}`
    this.usedNames.add(name)
    const id = `${random.hex(8)}-${random.hex(4)}-4${random.hex(3)}-a${random.hex(3)}-${random.hex(12)}`
    const account = new GenAccount(name, id, `${capitalize(first)} ${capitalize(last)}`, random)
    this.accounts.push(account)
    this.counters.accountsCreated++
    this.push(name, 'account.created', {id, cos: account.cos, settings: {...account.settings}})
    for (const system of SYSTEM_FOLDERS.slice(0, room - 1)) {
      account.folders.set(system.id, {...system, parent: -1, system: true})
      const data: FolderData = {folder: String(system.id), path: `/${system.name}`}
      // The Trash holds anything: it has no view.
      if (system.id !== TRASH) data.view = ITEM_TYPES[system.view]
      this.push(name, 'folder.created', data)
    }

    return true
  }

  private deleteAccount(account: GenAccount): boolean {
    if (this.accounts.length < 2) return false
    const index = this.accounts.indexOf(account)
    this.accounts[index] = this.accounts.at(-1)!
    this.accounts.pop()
    this.push(account.name, 'account.deleted', {})
    return true
  }

  private modifyAccount(account: GenAccount): boolean {
    const {random} = this
    const change = random.int(5)
    switch (change) {
    case 0: {
      account.settings.zimbraPrefLocale = random.pick(LOCALES)
      break;
    }

    case 1: {
      account.settings.zimbraPrefTimeZoneId = random.pick(TIME_ZONES)
      break;
    }

    case 2: {
      account.settings.zimbraMailQuota = random.pick(QUOTAS)
      break;
    }

    case 3: {
      account.cos = random.pick(COSES)
      break;
    }

    default: {account.settings.zimbraPrefMailSignature = `${account.displayName}\n${random.pick(SUBJECT_WORDS)} team`
    }
    }

    // The whole settings every time: "replace" and "merge" readings of account.modified then agree.
    this.push(account.name, 'account.modified', {cos: account.cos, settings: {...account.settings}})
    return true
  }

  private renameAccount(account: GenAccount): boolean {
    const local = account.name.slice(0, account.name.indexOf('@'))
    const domain = this.random.chance(0.5) ? this.random.pick(DOMAINS) : account.domain
    let name = `${local}@${domain}`
    for (let n = 2; this.usedNames.has(name); n++) name = `${local}.${n}@${domain}`
    this.usedNames.add(name)
    this.push(account.name, 'account.renamed', {name})
    account.name = name
    return true
  }

  // ---- folders --------------------------------------------------------------------------------------------------

  private createFolder(account: GenAccount): boolean {
    const {random} = this
    if (account.userFolders().length >= MAX_USER_FOLDERS) return this.renameFolder(account)
    const view = pickWeighted(random, [75, 10, 5, 5, 5])
    const candidates = [...account.folders.values()].filter(f => f.view === view && f.id !== TRASH && !account.isUnder(f.id, TRASH) && account.depth(f.id) < MAX_DEPTH)
    const home = account.folders.get(HOME_FOLDER[view])
    const parent = home && (random.chance(0.6) || candidates.length === 0) ? home : random.pick(candidates)
    if (!parent) return false
    const id = account.nextId++
    const name = account.uniqueName(parent.id, random.pick(FOLDER_NAMES))
    account.folders.set(id, {
      id, name, parent: parent.id, view, system: false,
    })
    this.push(account.name, 'folder.created', {
      folder: String(id),
      parent: String(parent.id),
      path: account.path(id),
      view: ITEM_TYPES[view],
    })
    return true
  }

  private deleteFolder(account: GenAccount): boolean {
    const folders = account.userFolders()
    if (folders.length === 0) return false
    // Deleting from the Trash is the common case: a deleted folder first goes there.
    const trashed = folders.filter(f => account.isUnder(f.id, TRASH))
    const folder = this.random.pick(trashed.length > 0 && this.random.chance(0.5) ? trashed : folders)
    const subtree = account.subtree(folder.id)
    account.removeItemsIn(subtree)
    for (const id of subtree) account.folders.delete(id)
    this.push(account.name, 'folder.deleted', {folder: String(folder.id)})
    return true
  }

  private emptyFolder(account: GenAccount): boolean {
    const folders = [...account.folders.values()]
    if (folders.length === 0) return false
    const folder = account.folders.has(TRASH) && this.random.chance(0.7) ? TRASH : this.random.pick(folders).id
    account.removeItemsIn(account.subtree(folder))
    this.push(account.name, 'folder.emptied', {folder: String(folder)})
    return true
  }

  private moveFolder(account: GenAccount): boolean {
    const folders = account.userFolders()
    if (folders.length === 0) return false
    const folder = this.random.pick(folders)
    const targets = [...account.folders.values()].filter(f =>
      f.id !== folder.parent
        && (f.id === TRASH || (f.view === folder.view && account.depth(f.id) < MAX_DEPTH))
        && !account.isUnder(f.id, folder.id))
    if (targets.length === 0) return false
    const trash = targets.find(f => f.id === TRASH)
    const target = trash && this.random.chance(0.3) ? trash : this.random.pick(targets)
    folder.parent = target.id
    folder.name = account.uniqueName(target.id, folder.name, folder.id)
    this.push(account.name, 'folder.moved', {
      folder: String(folder.id),
      parent: String(target.id),
      path: account.path(folder.id),
    })
    return true
  }

  private renameFolder(account: GenAccount): boolean {
    const folders = account.userFolders()
    if (folders.length === 0) return false
    const folder = this.random.pick(folders)
    folder.name = account.uniqueName(folder.parent, this.random.pick(FOLDER_NAMES), folder.id)
    this.push(account.name, 'folder.renamed', {
      folder: String(folder.id),
      parent: String(folder.parent),
      path: account.path(folder.id),
    })
    return true
  }

  // ---- items ----------------------------------------------------------------------------------------------------

  private copyItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const source = this.random.pick(account.live)
    const type = account.get(source, TYPE)
    const targets = [...account.folders.values()].filter(f => f.view === type)
    if (targets.length === 0) return false
    const folder = this.random.pick(targets).id
    const marks = account.get(source, MARKS)
    const id = account.nextId++
    account.addItem(id, {
      folder, marks, type, version: account.get(source, VERSION),
    })
    // Flags and tags are sent although they equal the source's: the copy's set does not depend on how a reader
    // treats a copy without them.
    this.push(account.name, 'item.copied', {
      item: String(id),
      source: String(source),
      folder: String(folder),
      flags: flagNames(marks),
      tags: tagNames(marks),
    })
    return true
  }

  private createItem(account: GenAccount, room: number): void {
    const {random} = this
    let type = pickWeighted(random, TYPE_WEIGHTS)
    // A log cut right after an account.created can leave an account without some of its system folders (Inbox
    // comes first): fall back to a message, or to a settings change when there is no folder at all.
    if (!account.folders.has(HOME_FOLDER[type])) type = MESSAGE
    if (!account.folders.has(INBOX)) {
      this.modifyAccount(account)
      return
    }

    const folder = this.newItemFolder(account, type)
    let flags = 0
    if (folder === SENT) flags = SEEN
    else if (folder === DRAFTS) flags = SEEN | DRAFT
    else if (type === MESSAGE && random.chance(folder === INBOX ? 0.4 : 0.8)) flags = SEEN
    const tags = random.chance(0.05) ? 1 << random.int(TAGS.length) : 0
    const marks = flags | (tags << 8)

    if (type === MESSAGE && folder === INBOX && random.chance(0.15)) {
      this.deliver(account, room, marks)
      return
    }

    const slot = {
      folder, marks, type, version: 1,
    }
    this.addCreated(account, slot, this.build(account, account.nextId, slot))
  }

  /** Mail arrives in the Inbox, or is sent, drafted or filtered; other items mostly go to their home folder. */
  private newItemFolder(account: GenAccount, type: number): number {
    const {random} = this
    const own = (): GenFolder[] => [...account.folders.values()].filter(f => f.view === type && !f.system)
    const r = random.next()
    let folder = HOME_FOLDER[type]
    if (type === MESSAGE && r < 0.15) folder = SENT
    else if (type === MESSAGE && r < 0.2) folder = DRAFTS
    else if ((type === MESSAGE && r < 0.3) || (type !== MESSAGE && r < 0.2)) {
      const candidates = own()
      if (candidates.length > 0) folder = random.pick(candidates).id
    }

    return account.folders.has(folder) ? folder : HOME_FOLDER[type]
  }

  private addCreated(account: GenAccount, slot: ItemSlot, built: Built): void {
    const {folder, marks, type} = slot
    const id = account.nextId++
    account.addItem(id, slot)
    this.itemsCreated[ITEM_TYPES[type]]++
    const data: Extract<Transaction, {op: 'item.created'}>['data'] = {
      item: String(id),
      type: ITEM_TYPES[type],
      folder: String(folder),
      flags: flagNames(marks),
      tags: tagNames(marks),
      metadata: built.metadata,
    }
    if (built.content) data.content = built.content
    this.push(account.name, 'item.created', data)
  }

  /**
   * The same message in several Inboxes: one mail to several local recipients (same bytes, same time), or a
   * recent one arriving again (a list, a forward). This is what makes a content-addressed store pay off.
   */
  private deliver(account: GenAccount, room: number, marks: number): void {
    const {random} = this
    if (this.recent.length > 0 && random.chance(0.3)) {
      const built = random.pick(this.recent)
      this.addCreated(account, {
        folder: INBOX, marks, type: MESSAGE, version: 1,
      }, built)
      return
    }

    const recipients = new Set([account])
    const wanted = Math.min(room, 2 + random.int(4), this.accounts.length)
    for (let tries = 0; recipients.size < wanted && tries < 20; tries++) {
      const other = this.pickAccount()
      if (other.folders.has(INBOX)) recipients.add(other)
    }

    const list = [...recipients]
    const built = this.buildMessage(account, INBOX, list.map(a => a.name))
    if (this.recent.length < RECENT_MESSAGES) this.recent.push(built)
    else this.recent[random.int(RECENT_MESSAGES)] = built
    for (const recipient of list) {
      this.addCreated(recipient, {
        folder: INBOX, marks: recipient === account ? marks : 0, type: MESSAGE, version: 1,
      }, built)
    }
  }

  private deleteItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const id = this.random.pick(account.live)
    account.removeItem(id)
    this.push(account.name, 'item.deleted', {item: String(id)})
    return true
  }

  private flagItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const id = this.random.pick(account.live)
    const marks = account.get(id, MARKS)
    const flag = account.get(id, TYPE) === MESSAGE ? 1 << pickWeighted(this.random, FLAG_WEIGHTS) : FLAGGED
    account.set(id, MARKS, marks ^ flag)
    this.push(account.name, 'item.flags', {item: String(id), flags: flagNames(marks ^ flag)})
    return true
  }

  private modifyItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const id = this.random.pick(account.live)
    const type = account.get(id, TYPE)
    const folder = account.get(id, FOLDER)
    if (type === MESSAGE && folder !== DRAFTS) {
      // A message's bytes never change outside Drafts: its modifications are flag and tag changes together.
      const marks = account.get(id, MARKS) ^ SEEN ^ (1 << (8 + this.random.int(TAGS.length)))
      account.set(id, MARKS, marks)
      this.push(account.name, 'item.modified', {item: String(id), flags: flagNames(marks), tags: tagNames(marks)})
      return true
    }

    const version = account.get(id, VERSION) + 1
    account.set(id, VERSION, version)
    const built = this.build(account, id, {
      folder, marks: 0, type, version,
    })
    const data: Extract<Transaction, {op: 'item.modified'}>['data'] = {item: String(id), metadata: built.metadata}
    if (built.content) data.content = built.content
    this.push(account.name, 'item.modified', data)
    return true
  }

  private moveItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const id = this.random.pick(account.live)
    const type = account.get(id, TYPE)
    const current = account.get(id, FOLDER)
    let target: number | undefined
    if (current !== TRASH && account.folders.has(TRASH) && this.random.chance(0.4)) target = TRASH
    else {
      const targets = [...account.folders.values()].filter(f => f.view === type && f.id !== current)
      if (targets.length > 0) target = this.random.pick(targets).id
    }

    if (target === undefined) return false
    account.set(id, FOLDER, target)
    this.push(account.name, 'item.moved', {item: String(id), folder: String(target)})
    return true
  }

  private tagItem(account: GenAccount): boolean {
    if (account.live.length === 0) return false
    const id = this.random.pick(account.live)
    const marks = account.get(id, MARKS) ^ (1 << (8 + this.random.int(TAGS.length)))
    account.set(id, MARKS, marks)
    this.push(account.name, 'item.tags', {item: String(id), tags: tagNames(marks)})
    return true
  }

  // ---- content --------------------------------------------------------------------------------------------------

  private build(account: GenAccount, id: number, {folder, type, version}: ItemSlot): Built {
    switch (ITEM_TYPES[type]) {
    case 'appointment': {
      return this.buildAppointment(account, id, version)
    }

    case 'contact': {
      return this.buildContact(account, id, version)
    }

    case 'document': {
      return this.buildDocument(account, id, version)
    }

    case 'message': {
      const peers = this.random.chance(0.7) ? [this.pickAccount().name] : [externalAddress(this.random)]
      return this.buildMessage(account, folder, peers)
    }

    case 'task': {
      return this.buildTask(account, id, version)
    }
    }
  }

  private buildAppointment(account: GenAccount, id: number, version: number): Built {
    const {random} = this
    const start = Math.floor((this.clock + random.int(30 * 86_400_000)) / 1_800_000) * 1_800_000
    const end = start + ((1 + random.int(4)) * 1_800_000)
    const attendees = Array.from({length: random.int(4)}, () => this.pickAccount().name)
    const metadata = {
      uid: `${account.id}-${id}`,
      summary: `${capitalize(random.pick(SUBJECT_WORDS))} ${random.pick(SUBJECT_WORDS)}`,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      location: random.pick(['Room A', 'Room B', 'Online', 'Head office', 'Customer site']),
      organizer: account.name,
      attendees,
      sequence: version - 1,
    }
    if (this.options.metadataOnly) return {metadata}
    // Some invitations carry a long agenda: those exceed the inline limit and become store files.
    const description = random.chance(0.2) ? this.text(500 + random.int(4000)).replaceAll('\r\n', String.raw`\n`) : ''
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Zextras//Carbonio//EN',
      'BEGIN:VEVENT',
      `UID:${metadata.uid}`,
      `DTSTAMP:${icsTime(this.clock)}`,
      `DTSTART:${icsTime(start)}`,
      `DTEND:${icsTime(end)}`,
      `SUMMARY:${metadata.summary}`,
      `LOCATION:${metadata.location}`,
      `ORGANIZER:mailto:${account.name}`,
      ...attendees.map(a => `ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:${a}`),
      ...(description ? [`DESCRIPTION:${description}`] : []),
      `SEQUENCE:${metadata.sequence}`,
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n')
    return {metadata, content: this.store(Buffer.from(ics, 'latin1'))}
  }

  private buildContact(account: GenAccount, id: number, version: number): Built {
    const {random} = this
    const first = capitalize(random.pick(FIRST_NAMES))
    const last = capitalize(random.pick(LAST_NAMES))
    const metadata = {
      firstName: first,
      lastName: last,
      fullName: `${first} ${last}`,
      email: `${first}.${last}@${random.pick(EXTERNAL_DOMAINS)}`.toLowerCase(),
      phone: `+39 0${random.int(90) + 10} ${1_000_000 + random.int(8_999_999)}`,
      company: capitalize(random.pick(SUBJECT_WORDS)) + ' ' + random.pick(['Srl', 'GmbH', 'SA', 'Ltd', 'Inc']),
      revision: version,
    }
    if (this.options.metadataOnly) return {metadata}
    const vcard = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      `UID:${account.id}-${id}`,
      `FN:${metadata.fullName}`,
      `N:${last};${first};;;`,
      `EMAIL;TYPE=work:${metadata.email}`,
      `TEL;TYPE=cell:${metadata.phone}`,
      `ORG:${metadata.company}`,
      `REV:${version}`,
      'END:VCARD',
      '',
    ].join('\r\n')
    return {metadata, content: this.store(Buffer.from(vcard, 'latin1'))}
  }

  private buildDocument(account: GenAccount, id: number, version: number): Built {
    const {random} = this
    if (version === 1 && random.chance(0.3)) {
      // The same handbook or template uploaded by many people.
      const index = random.int(SHARED_DOCUMENT_POOL)
      this.sharedDocuments[index] ??= this.sharedDocument(index)
      return this.sharedDocuments[index]!
    }

    const kind = random.pick(ATTACHMENT_KINDS)
    const metadata = {
      name: `${random.pick(SUBJECT_WORDS)}-${id}.${kind.ext}`,
      contentType: kind.type,
      version,
      author: account.name,
    }
    if (this.options.metadataOnly) return {metadata, content: this.reference(this.random, this.blobSize())}
    const head = `${metadata.name} v${version} ${account.id}-${id}\r\n`
    const size = this.blobSize()
    return {metadata, content: this.store(Buffer.from(head + this.text(Math.max(0, size - head.length)), 'latin1'))}
  }

  private buildMessage(account: GenAccount, folder: number, peers: string[]): Built {
    const {random} = this
    const outgoing = folder === SENT || folder === DRAFTS
    const from = outgoing ? account.name : (peers[0] === account.name ? externalAddress(random) : peers[0])
    const to = outgoing ? peers : [account.name, ...peers.filter(p => p !== account.name)]
    const fromDomain = from.slice(from.indexOf('@') + 1)
    const date = this.clock - random.int(120_000)
    const messageId = `<${random.hex(12)}.${this.seq}@${fromDomain}>`
    const subject = this.subject()
    const metadata: Record<string, unknown> = {
      messageId,
      subject,
      from,
      to,
      date: new Date(date).toISOString(),
    }
    const attach = random.chance(0.3) ? this.attachment(random.int(ATTACHMENT_POOL)) : undefined
    if (this.options.metadataOnly) {
      if (attach) metadata.attachments = [attach.name]
      return {metadata, content: this.reference(random, this.blobSize())}
    }

    const rfcDate = new Date(date).toUTCString().replace('GMT', '+0000')
    const headers = [
      `Return-Path: <${from}>`,
      `Received: from mx1.${fromDomain} (mx1.${fromDomain} [192.0.2.${1 + random.int(254)}])`,
      `\tby mail.${account.domain} (Carbonio) with ESMTPS id ${random.hex(10).toUpperCase()}`,
      `\tfor <${to[0]}>; ${rfcDate}`,
      `Message-ID: ${messageId}`,
      `Date: ${rfcDate}`,
      `From: ${displayOf(from)} <${from}>`,
      `To: ${to.map(a => `${displayOf(a)} <${a}>`).join(', ')}`,
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
    ]
    const target = this.blobSize()
    const textHeaders = 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
    let prefix = headers.join('\r\n') + '\r\n' + textHeaders
    let suffix = ''
    if (attach) {
      const boundary = `=_${random.hex(16)}`
      const multipartPrefix
        = headers.join('\r\n')
        + `\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\nThis is a multi-part message in MIME format.\r\n`
        + `\r\n--${boundary}\r\n${textHeaders}`
      const multipartSuffix
        = `\r\n--${boundary}\r\nContent-Type: ${attach.type}; name="${attach.name}"\r\n`
        + `Content-Disposition: attachment; filename="${attach.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`
        + `${attach.base64}\r\n--${boundary}--\r\n`
      // Only when the attachment leaves room for some text within the wanted size.
      if (target - multipartPrefix.length - multipartSuffix.length >= 256) {
        prefix = multipartPrefix
        suffix = multipartSuffix
        metadata.attachments = [attach.name]
      }
    }

    const body = this.text(target - prefix.length - suffix.length)
    return {metadata, content: this.store(Buffer.from(prefix + body + suffix, 'latin1'))}
  }

  private buildTask(account: GenAccount, id: number, version: number): Built {
    const {random} = this
    const percent = Math.min(100, ((version - 1) * 25) + random.int(25))
    const metadata = {
      uid: `${account.id}-${id}`,
      summary: `${capitalize(random.pick(SUBJECT_WORDS))} follow-up`,
      due: new Date(this.clock + (random.int(14) * 86_400_000)).toISOString().slice(0, 10),
      priority: random.pick([1, 5, 9]),
      status: percent >= 100 ? 'COMPLETED' : (percent > 0 ? 'IN-PROCESS' : 'NEEDS-ACTION'),
      percentComplete: percent,
    }
    if (this.options.metadataOnly) return {metadata}
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Zextras//Carbonio//EN',
      'BEGIN:VTODO',
      `UID:${metadata.uid}`,
      `DTSTAMP:${icsTime(this.clock)}`,
      `DUE;VALUE=DATE:${metadata.due.replaceAll('-', '')}`,
      `SUMMARY:${metadata.summary}`,
      `PRIORITY:${metadata.priority}`,
      `STATUS:${metadata.status}`,
      `PERCENT-COMPLETE:${percent}`,
      `SEQUENCE:${version - 1}`,
      'END:VTODO',
      'END:VCALENDAR',
      '',
    ].join('\r\n')
    return {metadata, content: this.store(Buffer.from(ics, 'latin1'))}
  }

  private attachment(index: number): Attachment {
    let attachment = this.attachments[index]
    if (!attachment) {
      // Each pool entry has its own PRNG so that it is the same whichever message asks for it first.
      const random = new Random(((this.options.seed ?? 1) ^ Math.imul(index + 1, 0x9E_37_79_B1)) >>> 0)
      const kind = random.pick(ATTACHMENT_KINDS)
      const size = random.logUniform(1024, 24_576)
      const words = new Uint32Array(Math.ceil(size / 4))
      for (let i = 0; i < words.length; i++) words[i] = (random.next() * 4_294_967_296) >>> 0
      const bytes = Buffer.from(words.buffer, 0, size)
      const base64 = bytes.toString('base64').replaceAll(/.{76}(?=.)/g, '$&\r\n')
      attachment = {base64, name: `${random.pick(SUBJECT_WORDS)}-${index}.${kind.ext}`, type: kind.type}
      this.attachments[index] = attachment
    }

    return attachment
  }

  private blobSize(): number {
    const {max, min} = this.options.blobSize ?? {min: 2048, max: 51_200}
    return this.random.logUniform(min, max)
  }

  private sharedDocument(index: number): Built {
    const random = new Random(((this.options.seed ?? 1) ^ Math.imul(index + 101, 0x85_EB_CA_6B)) >>> 0)
    const metadata = {
      name: `${random.pick(['Employee handbook', 'Price list', 'Brand guidelines', 'Expense form', 'Org chart'])} ${index}.pdf`,
      contentType: 'application/pdf',
      version: 1,
      author: 'it@' + DOMAINS[0],
    }
    const {max, min} = this.options.blobSize ?? {min: 2048, max: 51_200}
    const size = random.logUniform(min, max)
    if (this.options.metadataOnly) return {metadata, content: this.reference(random, size)}
    const head = `%PDF-1.4\r\n% shared document ${index}\r\n`
    const offset = random.int(Math.max(1, this.textCorpus(max).length - size))
    return {metadata, content: this.store(Buffer.from(head + this.corpus.slice(offset, offset + size - head.length), 'latin1'))}
  }

  /**
   * Metadata-only: where a content of `size` bytes would be, without the bytes (a made-up digest, no file). The
   * format requires content for messages and documents; a scanner in blobless mode takes digest and size as given
   * and never reads the path, one in normal mode records the content as missing.
   */
  private reference(random: Random, size: number): ContentRef {
    const digest = random.hex(64)
    this.counters.distinctBlobs++
    this.counters.distinctBytes += size
    return {path: path.join(this.storeDir ?? '/nonexistent/store', digest.slice(0, 2), digest), size, digest}
  }

  /** A fresh content: inline when small, else a file in the store. Every call is a new distinct blob. */
  private store(bytes: Buffer): ContentRef {
    const digest = createHash('sha256').update(bytes).digest('hex')
    this.counters.distinctBlobs++
    this.counters.distinctBytes += bytes.length
    if (bytes.length <= (this.options.inlineMaxBytes ?? 2048)) {
      this.counters.inlineBlobs++
      return {inline: bytes.toString('base64'), size: bytes.length, digest}
    }

    const dir = path.join(this.storeDir!, digest.slice(0, 2))
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, {recursive: true})
      this.madeDirs.add(dir)
    }

    const file = path.join(dir, digest)
    writeFileSync(file, bytes)
    this.counters.storeFiles++
    this.counters.storeBytes += bytes.length
    return {path: file, size: bytes.length, digest}
  }

  private subject(): string {
    const {random} = this
    const words = `${random.pick(SUBJECT_WORDS)} ${random.pick(SUBJECT_WORDS)}`
    switch (random.int(6)) {
    case 0: {
      return `Re: ${capitalize(words)}`
    }

    case 1: {
      return `Fwd: ${capitalize(words)} ${2020 + random.int(6)}`
    }

    case 2: {
      return `Invoice #${10_000 + random.int(90_000)}`
    }

    case 3: {
      return `[team] ${words}`
    }

    case 4: {
      // A non-ASCII subject, RFC 2047 encoded as mail clients send it.
      return `=?UTF-8?B?${Buffer.from(`Città: ${words} – ${random.int(100)}`).toString('base64')}?=`
    }

    default: {
      return capitalize(words)
    }
    }
  }

  /** `length` bytes of ASCII text with CRLF line ends, ending with CRLF. */
  private text(length: number): string {
    if (length <= 2) return '\r\n'.slice(0, Math.max(0, length))
    const corpus = this.textCorpus(length)
    const offset = this.random.int(corpus.length - length)
    let text = corpus.slice(offset, offset + length - 2)
    // A slice may start inside a CRLF or end between its two bytes: keep line ends whole.
    if (text.startsWith('\n')) text = ' ' + text.slice(1)
    if (text.endsWith('\r')) text = text.slice(0, -1) + ' '
    return text + '\r\n'
  }

  private textCorpus(atLeast: number): string {
    if (this.corpus.length > atLeast + 1) return this.corpus
    // Built once, from its own PRNG, so that it does not depend on when it is first needed.
    const random = new Random(((this.options.seed ?? 1) ^ 0x5B_D1_E9_95) >>> 0)
    const lines: string[] = []
    let size = 0
    const wanted = Math.max(1 << 20, (2 * atLeast) + 2)
    while (size < wanted) {
      let line = ''
      const width = 50 + random.int(27)
      while (line.length < width) line += (line ? ' ' : '') + random.pick(WORDS)
      line = capitalize(line) + (random.chance(0.3) ? '.' : '')
      if (random.chance(0.12)) line += '\r\n'
      lines.push(line)
      size += line.length + 2
    }

    this.corpus = lines.join('\r\n')
    return this.corpus
  }
}

/** Writes transactions as redolog v1 lines into redo-<first seq>.log files, rotating every `rotateEvery` lines. */
export class RedologWriter {
  bytes = 0
  files = 0
  private buffer: string[] = []
  private buffered = 0
  private fd?: number
  private file = ''
  private line = 0

  constructor(
    private readonly dir: string,
    private readonly rotateEvery = 100_000,
    private readonly timeFormat: TimeFormat = 'iso',
  ) {}

  close(): void {
    this.flush()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  /** Appends one line; returns where it went. */
  write(tx: Transaction): {line: number; source: string} {
    if (this.fd === undefined || this.line >= this.rotateEvery) {
      this.close()
      this.file = path.join(this.dir, redologFileName(tx.seq))
      this.fd = openSync(this.file, 'wx', 0o600)
      this.files++
      this.line = 0
    }

    const text = formatRedologLine(tx, this.timeFormat) + '\n'
    this.buffer.push(text)
    this.buffered += text.length
    this.line++
    if (this.buffered > 1 << 20) this.flush()
    return {source: this.file, line: this.line}
  }

  private flush(): void {
    if (this.fd === undefined || this.buffer.length === 0) return
    const chunk = Buffer.from(this.buffer.join(''), 'utf8')
    writeSync(this.fd, chunk)
    this.bytes += chunk.length
    this.buffer = []
    this.buffered = 0
  }
}

export function redologFileName(firstSeq: number): string {
  return `redo-${String(firstSeq).padStart(20, '0')}.log`
}

/** One redolog v1 line (without the newline). */
export function formatRedologLine(tx: Transaction, timeFormat: TimeFormat = 'iso'): string {
  return JSON.stringify({
    v: 1, seq: tx.seq, time: formatTime(tx.time, timeFormat), account: tx.account, op: tx.op, data: tx.data,
  })
}

function formatTime(ms: number, format: TimeFormat): number | string {
  if (format === 'ms') return ms
  if (format === 'iso') return isoTime(ms, 'Z')
  return isoTime(ms + 7_200_000, '+02:00')
}

// Date#toISOString costs about a microsecond, a tenth of a whole line: the date part changes once a day, so it is
// cached and the time of day is formatted by hand. Same output as toISOString for years 0-9999.
let cachedDay = Number.NaN
let cachedDayPrefix = ''

function isoTime(ms: number, zone: string): string {
  const day = Math.floor(ms / 86_400_000)
  if (day !== cachedDay) {
    cachedDay = day
    cachedDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11)
  }

  const inDay = ms - (day * 86_400_000)
  const hours = Math.floor(inDay / 3_600_000)
  const minutes = Math.floor(inDay / 60_000) % 60
  const seconds = Math.floor(inDay / 1000) % 60
  const millis = inDay % 1000
  return `${cachedDayPrefix}${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(millis, 3)}${zone}`
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

/**
 * Generates a whole redolog into `redologDir` (and content into `storeDir`), streaming: lines are written as they
 * are produced. Yields to the event loop now and then so that a scanner in the same process can tail the files.
 */
export async function generateRedolog(options: RedologOptions): Promise<RedologSummary> {
  const {redologDir, rotateEvery = 100_000, signal, timeFormat = 'iso'} = options
  if (!Number.isSafeInteger(rotateEvery) || rotateEvery < 1) throw new Error(`rotateEvery must be a positive integer, not ${rotateEvery}`)
  const generator = new RedologGenerator(options)
  mkdirSync(redologDir, {recursive: true, mode: 0o700})
  if (readdirSync(redologDir).some(name => /^redo-\d+\.log$/.test(name))) {
    throw new Error(`${redologDir} already holds a redolog: generate into an empty directory`)
  }

  const writer = new RedologWriter(redologDir, rotateEvery, timeFormat)
  try {
    let count = 0
    for (let tx = generator.next(); tx; tx = generator.next()) {
      tx.origin = writer.write(tx)
      options.onTransaction?.(tx)
      if (++count % 16_384 === 0) {
        await nextTick()
        signal?.throwIfAborted()
      }
    }
  } finally {
    writer.close()
  }

  return {...generator.summary(), redologFiles: writer.files, redologBytes: writer.bytes}
}

function validate(options: GeneratorOptions): void {
  const positive = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isFinite(value) || value < min)) throw new Error(`${name} must be at least ${min}, not ${value}`)
  }

  if (!Number.isSafeInteger(options.accounts) || options.accounts < 1) throw new Error(`accounts must be a positive integer, not ${options.accounts}`)
  if (!Number.isSafeInteger(options.transactions) || options.transactions < 0) {
    throw new Error(`transactions must be a non-negative integer, not ${options.transactions}`)
  }

  positive('spacingMs', options.spacingMs, 0)
  positive('inlineMaxBytes', options.inlineMaxBytes, 0)
  positive('firstSeq', options.firstSeq, 0)
  if (options.blobSize) {
    positive('blobSize.min', options.blobSize.min, 1)
    if (options.blobSize.max < options.blobSize.min) throw new Error('blobSize.max must be at least blobSize.min')
  }

  if (!options.metadataOnly && options.storeDir === undefined) throw new Error('storeDir is needed unless metadataOnly')
  const start = toMs(options.startTime ?? DEFAULT_START_TIME)
  if (Number.isNaN(start)) throw new Error(`bad startTime ${String(options.startTime)}`)
  if (options.endTime !== undefined) {
    const end = toMs(options.endTime)
    if (Number.isNaN(end)) throw new Error(`bad endTime ${String(options.endTime)}`)
    if (end - start < options.transactions - 1) {
      throw new Error(`endTime leaves less than 1 ms per transaction after startTime (${options.transactions} transactions)`)
    }
  }
}

function toMs(time: Date | number | string): number {
  return typeof time === 'number' ? time : (typeof time === 'string' ? Date.parse(time) : time.getTime())
}

function pickWeighted(random: Random, weights: readonly number[]): number {
  let r = random.next() * weights.reduce((a, b) => a + b, 0)
  for (const [i, weight] of weights.entries()) {
    r -= weight
    if (r < 0) return i
  }

  return weights.length - 1
}

function flagNames(marks: number): string[] {
  return FLAGS.filter((_, i) => marks & (1 << i))
}

/** Tags in the order of the account's tag list, not sorted: readers must not depend on the order. */
function tagNames(marks: number): string[] {
  return TAGS.filter((_, i) => marks & (1 << (8 + i)))
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}

function displayOf(address: string): string {
  return address
  .slice(0, address.indexOf('@'))
  .split('.')
  .map(part => capitalize(part))
  .join(' ')
}

function externalAddress(random: Random): string {
  return `${random.pick(FIRST_NAMES)}.${random.pick(LAST_NAMES)}@${random.pick(EXTERNAL_DOMAINS)}`
}

function icsTime(ms: number): string {
  return new Date(ms).toISOString().replaceAll(/[-:]/g, '').replace(/\.\d{3}/, '')
}
