/**
 * The reference model: what a mailbox looked like at any moment according to a transaction stream, computed by the
 * simplest means possible so that tests can compare the backup's point-in-time reads and exports against it. It is
 * deliberately independent of the scanner and the redolog connector (it has its own small line parser): a reference
 * that shared their code would share their bugs. Its rules are those of docs/redolog.md; where that page is silent
 * they are written here.
 *
 * Time
 * - A transaction takes effect at its `time`, inclusively: the state at T includes every transaction with time <= T;
 *   of several at the same time the one with the highest seq wins. A time earlier than the start of the current state
 *   of the same account, folder or item starts the new state at that start instead (a state never ends before it
 *   begins); times need not increase from line to line.
 * - A seq not greater than the last one applied is ignored (already applied); a gap is reported but applied.
 *
 * Accounts
 * - account.created makes a new, empty account available under that name; account.deleted makes it unavailable from
 *   that time on; account.renamed moves it, with its whole history, to the new name from that time on.
 *   account.modified replaces id and cos when given and merges `settings` (a null value removes the attribute).
 *   A name created again after its account was deleted is a new account with no past.
 * - A line for an account never seen is applied to an account discovered at that time (reported). A line for an
 *   account that was deleted, other than account.created, changes nothing (reported).
 *
 * Folders
 * - Fields left out keep their previous values (folder.moved without `parent` keeps the parent); `metadata` keys
 *   replace the previous ones of the same name. A folder's path at T is its name (the last segment of the path it
 *   was given) under its parent's path at T, so renaming or moving a folder moves its subfolders too; a folder whose
 *   parent is not a live folder at T (a top-level folder, or a parent never announced such as Carbonio's root "1")
 *   keeps the path it was given.
 * - folder.deleted deletes the folder, its subfolders and every item in them; folder.emptied deletes every item in
 *   the folder and its subfolders, and the folders stay.
 * - folder.renamed or folder.moved of a folder never seen records it (reported); of a deleted folder, or moving a
 *   folder under itself, changes nothing (reported).
 *
 * Items
 * - item.created sets every field anew (left out: no flags, no tags, empty metadata, no content); an id that is live
 *   already gets that new state (reported). item.copied creates a new item with the source's type and content, and
 *   the source's folder, flags, tags and metadata unless the line gives them (a `content` in the line is not read).
 *   item.moved changes the folder; item.modified replaces folder, flags, tags, metadata and content, each when
 *   present; item.flags and item.tags replace the whole set (kept sorted, without duplicates); item.deleted deletes.
 * - A change for an item that is not live (unknown or deleted), or a copy of such a source, changes nothing
 *   (reported). An item put in a folder that is not live is applied all the same (reported).
 *
 * Optional fields given as null mean the same as left out. "Reported" means recorded in `anomalies`: what a careful
 * reader of the feed flags; a generated redolog has none.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readdir} from 'node:fs/promises'
import path from 'node:path'
import {createInterface} from 'node:readline'

import {
  type ContentRef,
  ITEM_TYPES,
  type ItemType,
  type Transaction,
  TRANSACTION_OPS,
} from '../engine/appserver/transaction.js'

export interface FolderAt {
  id: string
  /** "/Inbox/Projects": the folder's name under its parent's path at that time (see the rules above). */
  path: string
  parent?: string
  view?: string
  metadata: Readonly<Record<string, unknown>>
  /** Deleted folders stay listed (with their last path) so that a restore of deleted things can be checked. */
  deleted: boolean
}

export interface ItemAt {
  id: string
  type: ItemType
  folder: string
  folderPath: string
  flags: readonly string[]
  tags: readonly string[]
  metadata: Readonly<Record<string, unknown>>
  /** sha256 hex of the content; absent for items without content. */
  digest?: string
  size?: number
}

export interface AccountAt {
  /** The account's address at that time. */
  account: string
  id?: string
  cos?: string
  settings: Readonly<Record<string, unknown>>
  /** Every folder created by that time, deleted ones flagged; sorted by id. */
  folders: FolderAt[]
  /** Live items only; sorted by id. */
  items: ItemAt[]
}

export interface Anomaly {
  seq: number
  account: string
  op: string
  reason: string
  origin?: Transaction['origin']
}

interface FolderState {
  /** The path the server gave (or the one derived when it gave none): its last segment is the folder's name. */
  readonly path: string
  readonly parent?: string
  readonly view?: string
  readonly metadata: Readonly<Record<string, unknown>>
  readonly deleted: boolean
}

interface ItemState {
  readonly folder: string
  readonly type: ItemType
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  readonly metadata: Readonly<Record<string, unknown>>
  readonly digest?: string
  readonly size?: number
}

interface AccountInfo {
  readonly id?: string
  readonly cos?: string
  readonly settings: Readonly<Record<string, unknown>>
}

/** The fields any operation's data may carry (transaction.ts), without nulls. */
interface Data {
  content?: ContentRef
  cos?: string
  flags?: string[]
  folder?: string
  id?: string
  item?: string
  metadata?: Record<string, unknown>
  name?: string
  parent?: string
  path?: string
  settings?: Record<string, unknown>
  source?: string
  tags?: string[]
  type?: ItemType
  view?: string
}

/**
 * The states of one thing in time order. A change never starts before the current state (it starts with it
 * instead), and two changes starting at the same millisecond keep only the later one, which is what any query at or
 * after that millisecond sees anyway.
 */
class Timeline<S> {
  private readonly states: S[] = []
  private readonly times: number[] = []

  constructor(time: number, state: S) {
    this.times.push(time)
    this.states.push(state)
  }

  get current(): S {
    return this.states.at(-1) as S
  }

  get since(): number {
    return this.times.at(-1)!
  }

  /** The state in force at `time`, or undefined before the first change. */
  at(time: number): S | undefined {
    const {times} = this
    let lo = 0
    let hi = times.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (times[mid] <= time) lo = mid + 1
      else hi = mid
    }

    return lo === 0 ? undefined : this.states[lo - 1]
  }

  set(time: number, state: S): void {
    const last = this.times.length - 1
    if (time <= this.times[last]) this.states[last] = state
    else {
      this.times.push(time)
      this.states.push(state)
    }
  }
}

class AccountRecord {
  deleted?: number
  readonly folders = new Map<string, Timeline<FolderState>>()
  readonly info: Timeline<AccountInfo>
  readonly items = new Map<string, Timeline<ItemState | null>>()
  /** Items alive now (after the last transaction applied), for the folder-wide operations. */
  readonly liveItems = new Set<string>()
  readonly names: Timeline<string>

  constructor(readonly created: number, name: string, info: AccountInfo) {
    this.names = new Timeline(created, name)
    this.info = new Timeline(created, info)
  }

  availableAt(time: number): boolean {
    return this.created <= time && (this.deleted === undefined || time < this.deleted)
  }

  liveFolder(id: string | undefined): FolderState | undefined {
    if (id === undefined) return undefined
    const state = this.folders.get(id)?.current
    return state && !state.deleted ? state : undefined
  }

  liveItem(id: string | undefined): ItemState | undefined {
    return id !== undefined && this.liveItems.has(id) ? this.items.get(id)!.current! : undefined
  }

  /** `root` and every live folder below it now (root need not be a folder of its own: Carbonio's "1"). */
  subtree(root: string): Set<string> {
    const children = new Map<string, string[]>()
    for (const [id, timeline] of this.folders) {
      const state = timeline.current
      if (state.deleted || state.parent === undefined) continue
      const siblings = children.get(state.parent)
      if (siblings) siblings.push(id)
      else children.set(state.parent, [id])
    }

    const result = new Set<string>([root])
    const queue = [root]
    while (queue.length > 0) {
      for (const child of children.get(queue.pop()!) ?? []) {
        if (!result.has(child)) {
          result.add(child)
          queue.push(child)
        }
      }
    }

    return result
  }
}

const collator = new Intl.Collator('en', {numeric: true})
const byId = (a: {id: string}, b: {id: string}): number => collator.compare(a.id, b.id)

export class ReferenceModel {
  /** What was refused or odd, in feed order (at most `maxAnomalies` kept; `anomalyCount` counts them all). */
  readonly anomalies: Anomaly[] = []
  anomalyCount = 0
  /** The earliest and latest transaction times seen. */
  firstTime?: number
  lastSeq?: number
  lastTime?: number
  transactions = 0
  private readonly byName = new Map<string, AccountRecord[]>()
  /** Sorted, de-duplicated flag and tag sets are shared: most items carry one of a few dozen. */
  private readonly interned = new Map<string, readonly string[]>()
  private readonly live = new Map<string, AccountRecord>()
  private readonly records: AccountRecord[] = []

  constructor(private readonly maxAnomalies = 10_000) {}

  /** A model of a whole redolog directory. */
  static async fromRedologDir(dir: string): Promise<ReferenceModel> {
    const model = new ReferenceModel()
    for await (const tx of readRedologDir(dir)) model.apply(tx)
    return model
  }

  /** Addresses of the accounts available at `time`, sorted. */
  accountsAt(time: number): string[] {
    const names: string[] = []
    for (const record of this.records) {
      if (record.availableAt(time)) names.push(record.names.at(time)!)
    }

    return names.sort()
  }

  apply(tx: Transaction): void {
    this.transactions++
    if (!this.takeSeq(tx)) return
    this.firstTime = Math.min(this.firstTime ?? tx.time, tx.time)
    this.lastTime = Math.max(this.lastTime ?? tx.time, tx.time)
    const data = withoutNulls(tx.data)
    if (tx.op === 'account.created') {
      if (this.live.has(tx.account)) return this.anomaly(tx, 'account already exists')
      this.createAccount(tx.account, tx.time, {id: data.id, cos: data.cos, settings: data.settings ?? {}})
      return
    }

    let record = this.live.get(tx.account)
    if (!record) {
      if (this.byName.get(tx.account)?.some(r => r.deleted !== undefined && r.names.current === tx.account)) {
        return this.anomaly(tx, `account ${tx.account} was deleted`)
      }

      this.anomaly(tx, `first transaction for this account was ${tx.op}, not account.created`)
      record = this.createAccount(tx.account, tx.time, {settings: {}})
    }

    const handler = this.handlers[tx.op as keyof ReferenceModel['handlers']] as Handler | undefined
    // transaction.ts names what each op is about; without it there is nothing to apply.
    if (tx.op.startsWith('item.') && typeof data.item !== 'string') return this.anomaly(tx, 'no item')
    if (tx.op.startsWith('folder.') && typeof data.folder !== 'string') return this.anomaly(tx, 'no folder')
    if (handler) handler(tx, data as Named, record)
    else this.anomaly(tx, `unknown operation ${tx.op}`)
  }

  /** Applies one redolog line; a line that does not parse is an anomaly (its seq, when readable, is used up). */
  applyLine(line: string, origin?: Transaction['origin']): void {
    let tx: Transaction
    try {
      tx = parseRedologLine(line, origin ?? {source: 'line'})
    } catch (error) {
      let seq = -1
      try {
        const value = JSON.parse(line)
        if (Number.isSafeInteger(value?.seq)) seq = value.seq
      } catch {
        // Not JSON at all: no seq to use up.
      }

      this.anomaly({
        account: '', op: '', origin, seq,
      }, (error as Error).message)
      if (seq > (this.lastSeq ?? 0)) this.lastSeq = seq
      return
    }

    this.apply(tx)
  }

  /** The account as it was at `time`, or undefined when no account had that address then. */
  stateAt(account: string, time: number): AccountAt | undefined {
    const record = this.byName.get(account)?.find(r => r.availableAt(time) && r.names.at(time) === account)
    if (!record) return undefined
    const info = record.info.at(time)!
    const folderStates = new Map<string, FolderState>()
    for (const [id, timeline] of record.folders) {
      const state = timeline.at(time)
      if (state) folderStates.set(id, state)
    }

    const paths = new Map<string, string>()
    const pathOf = (id: string, seen: Set<string>): string => {
      let result = paths.get(id)
      if (result !== undefined) return result
      const state = folderStates.get(id)
      if (!state) return `/${id}`
      const parent = state.parent === undefined ? undefined : folderStates.get(state.parent)
      // A live folder hangs under a live parent only; a deleted one shows where it was when it was deleted.
      const underParent = parent !== undefined && (!parent.deleted || state.deleted) && !seen.has(id)
      if (underParent) {
        seen.add(id)
        const parentPath = pathOf(state.parent!, seen)
        result = `${parentPath === '/' ? '' : parentPath}/${lastSegment(state.path) ?? id}`
      } else result = state.path

      paths.set(id, result)
      return result
    }

    const folders: FolderAt[] = []
    for (const [id, state] of folderStates) {
      const folder: FolderAt = {
        id, path: pathOf(id, new Set()), metadata: state.metadata, deleted: state.deleted,
      }
      if (state.parent !== undefined) folder.parent = state.parent
      if (state.view !== undefined) folder.view = state.view
      folders.push(folder)
    }

    const items: ItemAt[] = []
    for (const [id, timeline] of record.items) {
      const state = timeline.at(time)
      if (!state) continue
      const item: ItemAt = {
        id,
        type: state.type,
        folder: state.folder,
        folderPath: pathOf(state.folder, new Set()),
        flags: state.flags,
        tags: state.tags,
        metadata: state.metadata,
      }
      if (state.digest !== undefined) item.digest = state.digest
      if (state.size !== undefined) item.size = state.size
      items.push(item)
    }

    const result: AccountAt = {
      account, settings: info.settings, folders: folders.sort(byId), items: items.sort(byId),
    }
    if (info.id !== undefined) result.id = info.id
    if (info.cos !== undefined) result.cos = info.cos
    return result
  }

  private anomaly(tx: Pick<Anomaly, 'account' | 'op' | 'origin' | 'seq'>, reason: string): void {
    this.anomalyCount++
    if (this.anomalies.length < this.maxAnomalies) {
      this.anomalies.push({
        seq: tx.seq, account: tx.account, op: tx.op, reason, origin: tx.origin,
      })
    }
  }

  private changeFolder(tx: Transaction, data: Named, record: AccountRecord): void {
    const timeline = record.folders.get(data.folder)
    const current = timeline?.current
    const parent: string | undefined = data.parent ?? current?.parent
    if (this.refusesFolderChange(tx, data.folder, record, parent)) return
    const name = lastSegment(current?.path) ?? data.folder
    const parentPath = parent === undefined ? '' : (record.liveFolder(parent)?.path ?? '')
    const state: FolderState = {
      path: data.path ?? `${parentPath === '/' ? '' : parentPath}/${name}`,
      parent,
      view: data.view ?? current?.view,
      metadata: {...current?.metadata, ...data.metadata},
      deleted: false,
    }
    if (timeline) timeline.set(tx.time, state)
    else record.folders.set(data.folder, new Timeline(tx.time, state))
  }

  /** Reports what is odd about a folder change; true when it must change nothing. */
  private refusesFolderChange(tx: Transaction, folder: string, record: AccountRecord, parent: string | undefined): boolean {
    const current = record.folders.get(folder)?.current
    if (tx.op === 'folder.created' && current && !current.deleted) this.anomaly(tx, `folder ${folder} already exists`)
    if (tx.op !== 'folder.created') {
      if (!current) this.anomaly(tx, `${tx.op} for folder ${folder}, which is not known: recorded`)
      else if (current.deleted) {
        this.anomaly(tx, `${tx.op} for folder ${folder}, which was deleted`)
        return true
      }
    }

    if (parent === undefined) return false
    if (current && record.subtree(folder).has(parent)) {
      this.anomaly(tx, `folder ${folder} cannot move under itself (${parent})`)
      return true
    }

    if (record.folders.get(parent)?.current.deleted) this.anomaly(tx, `parent folder ${parent} was deleted`)
    return false
  }

  private changeItem(tx: Transaction, record: AccountRecord, id: string, change: Partial<ItemState>): void {
    const current = record.liveItem(id)
    if (!current) return this.anomaly(tx, `${tx.op} for item ${id}, which is not known`)
    if (change.folder !== undefined && !record.liveFolder(change.folder)) {
      this.anomaly(tx, `folder ${change.folder} is not a live folder`)
    }

    record.items.get(id)!.set(tx.time, {...current, ...change})
  }

  private createAccount(name: string, time: number, info: AccountInfo): AccountRecord {
    const record = new AccountRecord(time, name, info)
    this.records.push(record)
    this.live.set(name, record)
    this.remember(name, record)
    return record
  }

  private createItem(tx: Transaction, record: AccountRecord, id: string, state: ItemState): void {
    if (record.liveItems.has(id)) this.anomaly(tx, `item ${id} exists already: recorded as a new state`)
    if (!record.liveFolder(state.folder)) this.anomaly(tx, `folder ${state.folder} is not a live folder`)
    const timeline = record.items.get(id)
    if (timeline) timeline.set(tx.time, state)
    else record.items.set(id, new Timeline<ItemState | null>(tx.time, state))
    record.liveItems.add(id)
  }

  /** Deletes the live items of a folder and of its subfolders; returns that subtree. */
  private deleteItemsIn(record: AccountRecord, folder: string, time: number): Set<string> {
    const subtree = record.subtree(folder)
    for (const id of record.liveItems) {
      const timeline = record.items.get(id)!
      if (subtree.has(timeline.current!.folder)) {
        timeline.set(time, null)
        record.liveItems.delete(id)
      }
    }

    return subtree
  }

  private intern(values: readonly string[]): readonly string[] {
    const sorted = [...new Set(values)].sort()
    const key = sorted.join('\u0000')
    let shared = this.interned.get(key)
    if (!shared) {
      shared = Object.freeze(sorted)
      this.interned.set(key, shared)
    }

    return shared
  }

  private remember(name: string, record: AccountRecord): void {
    const list = this.byName.get(name)
    if (!list) this.byName.set(name, [record])
    else if (!list.includes(record)) list.push(record)
  }

  /** False for a seq already applied; reports a gap. */
  private takeSeq(tx: Transaction): boolean {
    if (this.lastSeq !== undefined) {
      if (tx.seq <= this.lastSeq) {
        this.anomaly(tx, `seq ${tx.seq} already applied (last ${this.lastSeq}); ignored`)
        return false
      }

      if (tx.seq !== this.lastSeq + 1) this.anomaly(tx, `seq gap: ${this.lastSeq} then ${tx.seq}`)
    }

    this.lastSeq = tx.seq
    return true
  }

  /** Per operation (account.created aside). `data` is the transaction's data without its null fields. */
  private readonly handlers: Record<Exclude<Transaction['op'], 'account.created'>, Handler> = {
    'account.deleted': (tx, _data, record) => {
      record.deleted = Math.max(tx.time, record.created)
      this.live.delete(tx.account)
    },
    'account.modified'(tx, data, record) {
      const previous = record.info.current
      const settings: Record<string, unknown> = {...previous.settings, ...data.settings}
      for (const [key, value] of Object.entries(settings)) if (value === null) delete settings[key]
      record.info.set(tx.time, {id: data.id ?? previous.id, cos: data.cos ?? previous.cos, settings})
    },
    'account.renamed': (tx, data, record) => {
      const {name} = data
      if (typeof name !== 'string' || name === '') return this.anomaly(tx, 'no new name')
      if (this.live.has(name)) return this.anomaly(tx, `cannot rename to ${name}: that account already exists`)
      record.names.set(tx.time, name)
      this.live.delete(tx.account)
      this.live.set(name, record)
      this.remember(name, record)
    },
    'folder.created': (tx, data, record) => this.changeFolder(tx, data, record),
    'folder.deleted': (tx, data, record) => {
      if (!record.liveFolder(data.folder)) this.anomaly(tx, `folder.deleted for folder ${data.folder}, which is not live`)
      const subtree = this.deleteItemsIn(record, data.folder, tx.time)
      for (const id of subtree) {
        const timeline = record.folders.get(id)
        if (timeline && !timeline.current.deleted) timeline.set(tx.time, {...timeline.current, deleted: true})
      }
    },
    'folder.emptied': (tx, data, record) => {
      if (!record.liveFolder(data.folder)) this.anomaly(tx, `folder.emptied for folder ${data.folder}, which is not live`)
      this.deleteItemsIn(record, data.folder, tx.time)
    },
    'folder.moved': (tx, data, record) => this.changeFolder(tx, data, record),
    'folder.renamed': (tx, data, record) => this.changeFolder(tx, data, record),
    'item.copied': (tx, data, record) => {
      const source = record.liveItem(data.source)
      if (!source) return this.anomaly(tx, `item.copied from item ${data.source}, which is not known`)
      this.createItem(tx, record, data.item, {
        ...source,
        folder: data.folder ?? source.folder,
        flags: data.flags ? this.intern(data.flags) : source.flags,
        tags: data.tags ? this.intern(data.tags) : source.tags,
        metadata: data.metadata ?? source.metadata,
      })
    },
    'item.created': (tx, data, record) => {
      if (data.type === undefined || !ITEM_TYPES.includes(data.type)) return this.anomaly(tx, `bad item type ${data.type}`)
      if (typeof data.folder !== 'string') return this.anomaly(tx, 'no folder')
      this.createItem(tx, record, data.item, {
        folder: data.folder,
        type: data.type,
        flags: this.intern(data.flags ?? []),
        tags: this.intern(data.tags ?? []),
        metadata: data.metadata ?? {},
        ...(data.content ? contentOf(data.content) : {}),
      })
    },
    'item.deleted': (tx, data, record) => {
      if (!record.liveItem(data.item)) return this.anomaly(tx, `item.deleted for item ${data.item}, which is not known`)
      record.items.get(data.item)!.set(tx.time, null)
      record.liveItems.delete(data.item)
    },
    'item.flags': (tx, data, record) => {
      if (!Array.isArray(data.flags)) return this.anomaly(tx, 'no flags')
      this.changeItem(tx, record, data.item, {flags: this.intern(data.flags)})
    },
    'item.modified': (tx, data, record) => {
      const change: {-readonly [K in keyof ItemState]?: ItemState[K]} = data.content ? contentOf(data.content) : {}
      if (data.folder !== undefined) change.folder = data.folder
      if (data.flags) change.flags = this.intern(data.flags)
      if (data.tags) change.tags = this.intern(data.tags)
      if (data.metadata) change.metadata = data.metadata
      this.changeItem(tx, record, data.item, change)
    },
    'item.moved': (tx, data, record) => {
      if (typeof data.folder !== 'string') return this.anomaly(tx, 'no target folder')
      this.changeItem(tx, record, data.item, {folder: data.folder})
    },
    'item.tags': (tx, data, record) => {
      if (!Array.isArray(data.tags)) return this.anomaly(tx, 'no tags')
      this.changeItem(tx, record, data.item, {tags: this.intern(data.tags)})
    },
  }
}

/** Data whose item (item.*) or folder (folder.*) was checked to be there. */
type Named = Data & {folder: string; item: string}

/** Applies one transaction (its data without null fields) to its account; reports what it refuses. */
type Handler = (tx: Transaction, data: Named, record: AccountRecord) => void

function withoutNulls(data: object): Data {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) {
    if (value === null) continue
    out[key] = key === 'content' && typeof value === 'object' ? withoutNulls(value) : value
  }

  return out as Data
}

function lastSegment(folderPath: string | undefined): string | undefined {
  if (folderPath === undefined) return undefined
  return folderPath.split('/').findLast(s => s !== '')
}

function contentOf(ref: ContentRef): {digest?: string; size?: number} {
  if (ref.inline !== undefined && (ref.digest === undefined || ref.size === undefined)) {
    const bytes = Buffer.from(ref.inline, 'base64')
    return {
      digest: ref.digest ?? createHash('sha256').update(bytes).digest('hex'),
      size: ref.size ?? bytes.length,
    }
  }

  const content: {digest?: string; size?: number} = {}
  if (ref.digest !== undefined) content.digest = ref.digest
  if (ref.size !== undefined) content.size = ref.size
  return content
}

// docs/redolog.md: seconds optional, up to 9 fraction digits, zone Z, ±HH:MM, ±HHMM or ±HH.
const ZONED_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)$/

/** Milliseconds of an ISO 8601 time with a zone, or NaN (also for a day that does not exist, 2025-02-30). */
export function parseZonedTime(text: string): number {
  const m = ZONED_TIME.exec(text)
  if (!m) return Number.NaN
  const [year, month, day, hours, minutes, seconds] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number)
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3))
  if (month < 1 || month > 12 || day < 1 || hours > 23 || minutes > 59 || seconds > 59) return Number.NaN
  const local = Date.UTC(year, month - 1, day, hours, minutes, seconds, millis)
  if (new Date(local).getUTCDate() !== day) return Number.NaN
  const offset = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * ((Number(m[10]) * 60) + Number(m[11] ?? 0)) * 60_000
  return local - offset
}

/**
 * One redolog v1 line as a Transaction. Only what the model needs is checked (the connector does the full
 * validation): a JSON object with v 1, an integer seq, a time with a zone or in ms, an account, a known op, a data
 * object. Throws with the reason otherwise.
 */
export function parseRedologLine(line: string, origin: Transaction['origin']): Transaction {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new Error(`${where(origin)}: not JSON`)
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where(origin)}: not a JSON object`)
  }

  const raw = value as Record<string, unknown>
  if (raw.v !== 1) throw new Error(`${where(origin)}: unsupported version ${JSON.stringify(raw.v)}`)
  if (!Number.isSafeInteger(raw.seq) || (raw.seq as number) < 1) throw new Error(`${where(origin)}: bad seq`)
  const time = typeof raw.time === 'string' ? parseZonedTime(raw.time) : (Number.isSafeInteger(raw.time) && (raw.time as number) >= 0 ? (raw.time as number) : Number.NaN)
  if (Number.isNaN(time)) throw new Error(`${where(origin)}: bad time ${JSON.stringify(raw.time)} (ISO 8601 with a zone, or ms)`)
  if (typeof raw.account !== 'string' || raw.account === '') throw new Error(`${where(origin)}: no account`)
  if (!TRANSACTION_OPS.includes(raw.op as Transaction['op'])) {
    throw new Error(`${where(origin)}: unknown op ${JSON.stringify(raw.op)}`)
  }

  if (typeof raw.data !== 'object' || raw.data === null || Array.isArray(raw.data)) {
    throw new Error(`${where(origin)}: data is not an object`)
  }

  return {
    seq: raw.seq, time, account: raw.account, op: raw.op, data: raw.data, origin,
  } as Transaction
}

function where(origin: Transaction['origin']): string {
  return origin.line === undefined ? origin.source : `${origin.source}:${origin.line}`
}

/** The redolog files of a directory in feed order: redo-<first seq, 20 digits>.log sorts by name. */
export async function redologFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir)
  return names.filter(name => /^redo-\d{20}\.log$/.test(name)).sort().map(name => path.join(dir, name))
}

/**
 * Every transaction of a redolog directory, in order; a bad line throws with its file and line number.
 * @yields one Transaction per non-empty line, its origin the file and line.
 */
export async function * readRedologDir(dir: string): AsyncGenerator<Transaction> {
  for (const file of await redologFiles(dir)) {
    const lines = createInterface({input: createReadStream(file), crlfDelay: Infinity})
    let line = 0
    for await (const text of lines) {
      line++
      if (text.trim() === '') continue
      yield parseRedologLine(text, {source: file, line})
    }
  }
}
