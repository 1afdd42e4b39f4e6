/**
 * Validates one redolog line (docs/redolog.md) and turns it into a Transaction. Hand-written rather than a schema
 * library because the scanner ingests hundreds of thousands of lines a second; it mirrors docs/redolog.schema.json
 * rule for rule (the tests check both against the same tables and random mutations), so change the two together.
 */
/* eslint-disable unicorn/prefer-code-point -- positions are UTF-16 code units where only ASCII is valid; charCodeAt
   is the cheap total form (NaN past the end), and codePointAt would merge surrogates that are invalid anyway. */
import {
  type ContentRef,
  ITEM_TYPES,
  type ItemType,
  type Transaction,
  TRANSACTION_OPS,
  type TransactionOp,
} from '../transaction.js'

/** The newest line format this plugin reads. A line with a greater `v` is an error, never guessed at. */
export const REDOLOG_VERSION = 1

/*
 * The patterns are exported so that the tests can check that the schema uses the very same ones. They are compiled
 * with the `u` flag, as JSON Schema validators do.
 */
/** An address: something@something, no whitespace. */
export const ADDRESS_PATTERN = String.raw`^[^@\s]+@[^@\s]+$`
/**
 * ISO 8601 extended format with a zone (RFC 3339, seconds optional, up to 9 fraction digits, offsets ±HH:MM, ±HHMM
 * or ±HH), a real calendar day (leap years included), years 1970 to 9999.
 */
export const ISO_TIME_PATTERN
  = String.raw`^(?=19[7-9]\d|[2-9]\d{3})`
  + String.raw`(?:\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))`
  + String.raw`|(?:\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)`
  + String.raw`T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?`
  + String.raw`(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)$`
/** sha256 as lower-case hex. */
export const DIGEST_PATTERN = '^[0-9a-f]{64}$'
/** Standard base64 with padding (RFC 4648 section 4), no line breaks. */
export const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'
/** The greatest time in ms that a JavaScript Date can hold. */
export const MAX_TIME_MS = 8_640_000_000_000_000

const ADDRESS = new RegExp(ADDRESS_PATTERN, 'u')
const ISO_TIME = new RegExp(ISO_TIME_PATTERN, 'u')
const DIGEST = new RegExp(DIGEST_PATTERN, 'u')

const OPS: ReadonlySet<string> = new Set<string>(TRANSACTION_OPS)
const TYPES: ReadonlySet<string> = new Set<string>(ITEM_TYPES)
/** Item types whose item.created must say where the content is. */
const TYPES_WITH_CONTENT: ReadonlySet<string> = new Set<ItemType>(['document', 'message'])

export interface RedologLineOrigin {
  source: string
  line: number
}

export type RedologLineResult
  = | {ok: false; reason: string; account?: string; seq?: number}
  | {ok: true; transaction: Transaction}

type Json = Record<string, unknown>
/** The data of an op with only the fields that op defines, or the reason it is invalid. */
type DataReader = (data: Json) => object | string

/**
 * Parses one line (without its newline; a trailing "\r" is tolerated). On error the account and seq are returned
 * whenever they were themselves valid, so that the error can be attributed although the line is not applied.
 */
export function parseRedologLine(text: string, origin: RedologLineOrigin): RedologLineResult {
  let line: unknown
  try {
    line = JSON.parse(text)
  } catch (error) {
    return {ok: false, reason: text.trim() === '' ? 'empty line' : `not valid JSON (${shorten((error as Error).message)})`}
  }

  if (!isObject(line)) return {ok: false, reason: 'line is not a JSON object'}

  const account = typeof line.account === 'string' && ADDRESS.test(line.account) ? line.account : undefined
  const seq = isPositiveInteger(line.seq) ? line.seq : undefined
  const time = timeToMs(line.time)
  const reason = envelopeProblem(line, account, seq, time)
  if (reason !== undefined) return failure(reason, account, seq)

  const op = line.op as TransactionOp
  const data = DATA_READERS[op](line.data as Json)
  if (typeof data === 'string') return failure(data, account, seq)

  return {
    ok: true,
    transaction: {
      seq, time, account, origin: {source: origin.source, line: origin.line}, op, data,
    } as Transaction,
  }
}

/** What is wrong with the fields every line has, in the order a writer would want to hear it. */
function envelopeProblem(line: Json, account: string | undefined, seq: number | undefined, time: number | undefined): string | undefined {
  const {op, v} = line
  if (v === undefined) return `v is missing (the format version, ${REDOLOG_VERSION})`
  if (!isPositiveInteger(v)) return 'v must be a positive integer'
  if (v > REDOLOG_VERSION) return `v ${v} is newer than this plugin supports (${REDOLOG_VERSION})`
  if (line.seq === undefined) return 'seq is missing'
  if (seq === undefined) return 'seq must be an integer ≥ 1'
  if (line.time === undefined) return 'time is missing'
  if (time === undefined) return 'time is not ISO 8601 with a zone or ms'
  if (line.account === undefined) return 'account is missing'
  if (account === undefined) return 'account must be an address (local@domain)'
  if (op === undefined) return 'op is missing'
  if (typeof op !== 'string') return 'op must be a string'
  if (!OPS.has(op)) return `unknown op '${shorten(op)}'`
  if (line.data === undefined) return 'data is missing'
  if (!isObject(line.data)) return 'data must be an object'
  return undefined
}

/** Not a closure inside parseRedologLine: that would cost an allocation on every line, and most lines are valid. */
function failure(reason: string, account: string | undefined, seq: number | undefined): RedologLineResult {
  const result: RedologLineResult = {ok: false, reason}
  if (account !== undefined) result.account = account
  if (seq !== undefined) result.seq = seq
  return result
}

const ACCOUNT_FIELDS = ['id', 'cos', 'settings'] as const
const FOLDER_FIELDS = ['folder', 'parent', 'path', 'view', 'metadata'] as const
const ITEM_FIELDS = ['item', 'type', 'folder', 'flags', 'tags', 'metadata', 'source'] as const
const CONTENT_FIELDS = ['path', 'inline', 'size', 'digest', 'locator'] as const

const accountData: DataReader = data =>
  optionalId(data, 'id') ?? optionalId(data, 'cos') ?? optionalObject(data, 'settings') ?? given(data, ACCOUNT_FIELDS)

const folderData: DataReader = data =>
  requiredId(data, 'folder')
  ?? optionalId(data, 'parent')
  ?? optionalId(data, 'path')
  ?? optionalId(data, 'view')
  ?? optionalObject(data, 'metadata')
  ?? given(data, FOLDER_FIELDS)

const folderRef: DataReader = data => requiredId(data, 'folder') ?? {folder: data.folder}
const itemRef: DataReader = data => requiredId(data, 'item') ?? {item: data.item}

/** Every op, with the reader of its data: a Record, so that an op added to transaction.ts must be added here. */
const DATA_READERS: Record<TransactionOp, DataReader> = {
  'account.created': accountData,
  'account.deleted': () => ({}),
  'account.modified': accountData,
  'account.renamed'(data) {
    if (data.name === undefined) return 'data.name is missing'
    if (typeof data.name !== 'string' || !ADDRESS.test(data.name)) return 'data.name must be an address (local@domain)'
    return {name: data.name}
  },
  'folder.created': folderData,
  'folder.deleted': folderRef,
  'folder.emptied': folderRef,
  'folder.moved': folderData,
  'folder.renamed': folderData,
  'item.copied': data => itemData(data, 'copied'),
  'item.created': data => itemData(data, 'created'),
  'item.deleted': itemRef,
  'item.flags': data => requiredId(data, 'item') ?? requiredStringList(data, 'flags') ?? {item: data.item, flags: data.flags},
  'item.modified': data => itemData(data, 'modified'),
  'item.moved': data => requiredId(data, 'item') ?? requiredId(data, 'folder') ?? {item: data.item, folder: data.folder},
  'item.tags': data => requiredId(data, 'item') ?? requiredStringList(data, 'tags') ?? {item: data.item, tags: data.tags},
}

/** item.created needs type and folder (and content for messages and documents); item.copied needs source. */
function itemData(data: Json, kind: 'copied' | 'created' | 'modified'): object | string {
  const created = kind === 'created'
  const reason
    = requiredId(data, 'item')
    ?? itemTypeProblem(data.type, created)
    ?? (created ? requiredId(data, 'folder') : optionalId(data, 'folder'))
    ?? optionalStringList(data, 'flags')
    ?? optionalStringList(data, 'tags')
    ?? optionalObject(data, 'metadata')
    ?? (kind === 'copied' ? requiredId(data, 'source') : optionalId(data, 'source'))
  if (reason !== undefined) return reason

  const out = given(data, ITEM_FIELDS)
  if (isGiven(data.content)) {
    const content = contentRef(data.content)
    if (typeof content === 'string') return content
    out.content = content
  } else if (created && TYPES_WITH_CONTENT.has(data.type as string)) {
    return `data.content is required for a ${data.type as string}`
  }

  return out
}

function itemTypeProblem(type: unknown, required: boolean): string | undefined {
  if (!isGiven(type)) return required ? 'data.type is missing' : undefined
  return typeof type === 'string' && TYPES.has(type) ? undefined : `data.type must be one of ${ITEM_TYPES.join(', ')}`
}

function contentRef(content: unknown): ContentRef | string {
  if (!isObject(content)) return 'data.content must be an object'
  const {digest, inline, locator, path, size} = content
  const byPath = isGiven(path)
  if (byPath === isGiven(inline)) return 'data.content needs exactly one of path or inline'
  if (byPath && !isNonEmptyString(path)) return 'data.content.path must be a non-empty string'
  if (!byPath && !(typeof inline === 'string' && isBase64(inline))) return 'data.content.inline must be base64 (RFC 4648, padded)'
  if (isGiven(size) && !(Number.isSafeInteger(size) && (size as number) >= 0)) return 'data.content.size must be an integer ≥ 0'
  if (isGiven(digest) && !(typeof digest === 'string' && DIGEST.test(digest))) {
    return 'data.content.digest must be sha256 as 64 lower-case hex digits'
  }

  if (isGiven(locator) && !isNonEmptyString(locator)) return 'data.content.locator must be a non-empty string'
  return given(content, CONTENT_FIELDS)
}

/** The listed fields that are given (neither absent nor null): unknown fields are dropped, null means absent. */
function given(data: Json, fields: readonly string[]): Json {
  const out: Json = {}
  for (const field of fields) {
    const value = data[field]
    if (value !== undefined && value !== null) out[field] = value
  }

  return out
}

/**
 * Milliseconds since the epoch from an integer or an ISO_TIME_PATTERN string; fractions finer than a millisecond
 * are truncated. undefined when the value is neither.
 */
export function timeToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= MAX_TIME_MS ? value : undefined
  if (typeof value !== 'string' || !ISO_TIME.test(value)) return undefined

  // The pattern fixed every position up to the minutes; what follows is optional seconds, fraction and zone.
  let index = 16
  let seconds = 0
  let millis = 0
  if (value.charCodeAt(index) === COLON) {
    seconds = digits(value, 17, 2)
    index = 19
    if (value.charCodeAt(index) === DOT) {
      const count = countDigits(value, 20)
      const used = Math.min(3, count)
      millis = digits(value, 20, used) * (10 ** (3 - used))
      index = 20 + count
    }
  }

  let offsetMinutes = 0
  const zone = value.charCodeAt(index)
  if (zone !== LETTER_Z) {
    offsetMinutes = digits(value, index + 1, 2) * 60
    if (value.length > index + 3) offsetMinutes += digits(value, value.length - 2, 2)
    if (zone === MINUS) offsetMinutes = -offsetMinutes
  }

  const utc = Date.UTC(
    digits(value, 0, 4),
    digits(value, 5, 2) - 1,
    digits(value, 8, 2),
    digits(value, 11, 2),
    digits(value, 14, 2),
    seconds,
    millis,
  )
  return utc - (offsetMinutes * 60_000)
}

const ZERO = 48
const NINE = 57
const COLON = 58
const DOT = 46
const MINUS = 45
const EQUALS = 61
const LETTER_Z = 90

function countDigits(text: string, start: number): number {
  let i = start
  while (text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++
  return i - start
}

function digits(text: string, start: number, count: number): number {
  let n = 0
  for (let i = start; i < start + count; i++) n = (n * 10) + text.charCodeAt(i) - ZERO
  return n
}

/** Same language as BASE64_PATTERN, without a regular expression's backtracking stack on large inline content. */
function isBase64(text: string): boolean {
  const {length} = text
  if (length % 4 !== 0) return false
  let end = length
  if (length > 0 && text.charCodeAt(length - 1) === EQUALS) end = text.charCodeAt(length - 2) === EQUALS ? length - 2 : length - 1
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const ok
      = (c >= 65 && c <= 90) // A-Z
      || (c >= 97 && c <= 122) // a-z
      || (c >= ZERO && c <= NINE)
      || c === 43 // +
      || c === 47 // /
    if (!ok) return false
  }

  return true
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Optional fields may be absent or null (as many JSON writers emit them): both mean "not given". */
function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const entry of value) if (!isNonEmptyString(entry)) return false
  return true
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

function requiredId(data: Json, key: string): string | undefined {
  const value = data[key]
  if (value === undefined) return `data.${key} is missing`
  return isNonEmptyString(value) ? undefined : `data.${key} must be a non-empty string`
}

function optionalId(data: Json, key: string): string | undefined {
  const value = data[key]
  return !isGiven(value) || isNonEmptyString(value) ? undefined : `data.${key} must be a non-empty string`
}

function optionalObject(data: Json, key: string): string | undefined {
  const value = data[key]
  return !isGiven(value) || isObject(value) ? undefined : `data.${key} must be an object`
}

function requiredStringList(data: Json, key: string): string | undefined {
  return data[key] === undefined ? `data.${key} is missing` : stringListProblem(data, key)
}

function optionalStringList(data: Json, key: string): string | undefined {
  return isGiven(data[key]) ? stringListProblem(data, key) : undefined
}

function stringListProblem(data: Json, key: string): string | undefined {
  return isStringList(data[key]) ? undefined : `data.${key} must be an array of non-empty strings`
}

/** Keeps reasons to one readable line whatever the input. */
function shorten(text: string): string {
  const line = text.replaceAll(/\s+/g, ' ')
  return line.length > 80 ? `${line.slice(0, 77)}...` : line
}
