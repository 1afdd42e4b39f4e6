import {Ajv2020} from 'ajv/dist/2020.js'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'

import {
  compareRedologFiles,
  currentRedologFile,
  formatRedologFileName,
  listRedologFiles,
  parseRedologFileName,
  redologFileFor,
} from '../../../../src/engine/appserver/redolog/file-names.js'
import {
  ADDRESS_PATTERN,
  BASE64_PATTERN,
  DIGEST_PATTERN,
  ISO_TIME_PATTERN,
  MAX_TIME_MS,
  parseRedologLine,
  REDOLOG_VERSION,
  timeToMs,
} from '../../../../src/engine/appserver/redolog/parse-line.js'
import {ITEM_TYPES, type Transaction, TRANSACTION_OPS} from '../../../../src/engine/appserver/transaction.js'

const DOC = readFileSync(new URL('../../../../docs/redolog.md', import.meta.url), 'utf8')
const SCHEMA = JSON.parse(readFileSync(new URL('../../../../docs/redolog.schema.json', import.meta.url), 'utf8'))

const ajv = new Ajv2020({strict: true, allowUnionTypes: true, allErrors: true})
const validate = ajv.compile(SCHEMA)

const ORIGIN = {source: 'redo-00000000000000000001.log', line: 3}
const T0 = 1_740_824_400_000 // 2025-03-01T10:20:00Z
const DIGEST = 'acdab4d6b4e5edbf5530f5daa38da742d7fd3e0b6c93b545ff5bee809eecfe30'
const INLINE = Buffer.from('From: bob@example.com\r\n\r\nHi\r\n').toString('base64')

type Fields = Record<string, unknown>

const A = 'alice@example.com'

/**
 * A line with sensible top-level fields (seq 7, account alice@example.com). `data` is written as on the wire (a
 * JSON string) or as an object; `top` overrides top-level fields, undefined removing one.
 */
function line(op: string, data?: Fields | string, top: Fields = {}): string {
  const fields: Fields = {
    v: 1, seq: 7, time: T0, account: A, op, data: typeof data === 'string' ? JSON.parse(data) : data, ...top,
  }
  for (const [key, value] of Object.entries(fields)) if (value === undefined) delete fields[key]
  return JSON.stringify(fields)
}

/** A valid item.created message with `changes` (undefined removes a field). */
function message(changes: Fields = {}): Fields {
  const data: Fields = JSON.parse('{"item":"1001","type":"message","folder":"2","content":{"path":"store/0/1001-1.msg"}}')
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete data[key]
    else data[key] = value
  }

  return data
}

interface ValidRow {
  name: string
  text: string
  /** The transaction's data when it is not the line's data as written. */
  data?: unknown
  /** The transaction's time when the line's is not already in ms. */
  time?: number
}

function valid(name: string, text: string, expected: {data?: unknown; time?: number} = {}): ValidRow {
  return {name, text, ...expected}
}

/** `time` as written, and the ms it stands for. */
function timed(time: number | string, ms: number): ValidRow {
  return valid(`time ${JSON.stringify(time)}`, line('item.deleted', {item: '1'}, {time}), {time: ms})
}

const VALID: ValidRow[] = [
  valid('account.created with everything', line('account.created', '{"id":"u-1","cos":"default","settings":{"displayName":"Alice"}}')),
  valid('account.created with nothing', line('account.created', {})),
  valid('account.modified (a null setting removes it)', line('account.modified', '{"settings":{"zimbraPrefLocale":"it","old":null}}')),
  valid('account.modified, null cos means not given', line('account.modified', '{"cos":null}'), {data: {}}),
  valid('account.renamed', line('account.renamed', '{"name":"alice.liddell@example.com"}')),
  valid('account.deleted', line('account.deleted', {})),
  valid('account.deleted drops unknown data fields', line('account.deleted', '{"reason":"left"}'), {data: {}}),
  valid('folder.created', line('folder.created', '{"folder":"257","parent":"1","path":"/Projects","view":"message","metadata":{"color":"blue"}}')),
  valid('folder.created top-level (parent null)', line('folder.created', '{"folder":"2","parent":null,"path":"/Inbox"}'), {data: {folder: '2', path: '/Inbox'}}),
  valid('folder.renamed', line('folder.renamed', '{"folder":"257","path":"/Clients"}')),
  valid('folder.moved', line('folder.moved', '{"folder":"258","parent":"2","path":"/Inbox/Acme"}')),
  valid('folder.deleted', line('folder.deleted', '{"folder":"258"}')),
  valid('folder.emptied', line('folder.emptied', '{"folder":"3"}')),
  valid('item.created message by path', line('item.created', message())),
  valid('item.created message inline, with everything', line('item.created', message({
    content: JSON.parse(`{"inline":"${INLINE}","size":29,"digest":"${DIGEST}","locator":"imap:INBOX/42"}`),
    flags: [String.raw`\Seen`, '$Forwarded'],
    metadata: {subject: 'Hi'},
    tags: ['work'],
  }))),
  valid('item.created message with empty inline content', line('item.created', message({content: {inline: ''}}))),
  valid('item.created contact without content', line('item.created', '{"item":"1003","type":"contact","folder":"7","metadata":{"email":"bob@example.com"}}')),
  valid('item.created appointment, content null', line('item.created', '{"item":"1004","type":"appointment","folder":"10","content":null}'), {
    data: JSON.parse('{"item":"1004","type":"appointment","folder":"10"}'),
  }),
  valid('item.created task', line('item.created', '{"item":"1005","type":"task","folder":"15"}')),
  valid('item.created document', line('item.created', '{"item":"1006","type":"document","folder":"16","content":{"path":"/store/doc-1","size":0}}')),
  valid(
    'item.created: unknown data and content fields are dropped, null optionals too',
    line('item.created', message({future: 1, flags: null, content: JSON.parse('{"path":"p","inline":null,"compression":"none","digest":null}')})),
    {data: message({content: {path: 'p'}})},
  ),
  valid('item.modified with content only', line('item.modified', {item: '1006', content: {path: 'store/doc-2', digest: DIGEST}})),
  valid('item.modified with every field', line('item.modified', '{"item":"1","type":"task","folder":"3","flags":[],"tags":["a"],"metadata":{},"source":"9"}')),
  valid('item.moved', line('item.moved', '{"item":"1001","folder":"257"}')),
  valid('item.copied', line('item.copied', String.raw`{"item":"1007","source":"1001","folder":"2","flags":["\\Seen"]}`)),
  valid('item.flags', line('item.flags', String.raw`{"item":"1001","flags":["\\Seen","\\Answered"]}`)),
  valid('item.flags, empty set', line('item.flags', '{"item":"1001","flags":[]}')),
  valid('item.tags', line('item.tags', '{"item":"1001","tags":["lunch"]}')),
  valid('item.deleted', line('item.deleted', '{"item":"1002"}')),
  valid('item.deleted ignores fields it does not define', line('item.deleted', '{"item":"1002","folder":5}'), {data: {item: '1002'}}),
  valid('unknown top-level fields', line('item.deleted', {item: '1'}, {server: 'mbox1', trace: [1, 2]})),
  valid(String.raw`trailing \r (CRLF file)`, line('item.deleted', {item: '1'}) + '\r'),
  valid('seq 2^53-1', line('item.deleted', {item: '1'}, {seq: Number.MAX_SAFE_INTEGER})),
  valid('v 1.0 is 1', line('item.deleted', {item: '1'}).replace('"v":1', '"v":1.0')),
  timed(0, 0),
  timed(MAX_TIME_MS, MAX_TIME_MS),
  timed('2025-03-01T10:20:00Z', T0),
  timed('2025-03-01T10:20Z', T0),
  timed('2025-03-01T11:20:00+01:00', T0),
  timed('2025-03-01T11:50:00+0130', T0),
  timed('2025-03-01T05:20:00-05', T0),
  timed('2025-03-01T10:20:00-00:00', T0),
  timed('2025-03-01T10:20:00.5Z', T0 + 500),
  timed('2025-03-01T10:20:00.123999999Z', T0 + 123),
  timed('2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)),
  timed('2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)),
  timed('1970-01-01T00:00:00Z', 0),
  timed('9999-12-31T23:59:59.999Z', Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
]

interface InvalidRow {
  name: string
  text: string
  reason: string
  account?: string
  seq?: number
}

/** What a bad line whose account and seq are themselves fine must return with its error. */
const ATTRIBUTED = {account: A, seq: 7}

/** A bad line, and the account and seq that must come back with its error. */
function invalid(name: string, text: string, reason: string, attribution: {account?: string; seq?: number} = ATTRIBUTED): InvalidRow {
  return {
    name, text, reason, ...attribution,
  }
}

const NO_ATTRIBUTION = {}
const BAD_TIME = 'time is not ISO 8601 with a zone or ms'
const BAD_INLINE = 'data.content.inline must be base64 (RFC 4648, padded)'
const BAD_DIGEST = 'data.content.digest must be sha256 as 64 lower-case hex digits'
const BAD_TYPE = 'data.type must be one of message, contact, appointment, task, document'

const INVALID: InvalidRow[] = [
  invalid('empty', '', 'empty line', NO_ATTRIBUTION),
  invalid('blank', '  \r', 'empty line', NO_ATTRIBUTION),
  invalid('not JSON', '{"v":1,', 'not valid JSON', NO_ATTRIBUTION),
  invalid('truncated line', line('item.deleted', {item: '1'}).slice(0, 40), 'not valid JSON', NO_ATTRIBUTION),
  invalid('array', '[1,2]', 'line is not a JSON object', NO_ATTRIBUTION),
  invalid('null', 'null', 'line is not a JSON object', NO_ATTRIBUTION),
  invalid('number', '42', 'line is not a JSON object', NO_ATTRIBUTION),
  invalid('no v', line('item.deleted', {item: '1'}, {v: undefined}), 'v is missing (the format version, 1)'),
  invalid('v 0', line('item.deleted', {item: '1'}, {v: 0}), 'v must be a positive integer'),
  invalid('v "1"', line('item.deleted', {item: '1'}, {v: '1'}), 'v must be a positive integer'),
  invalid('v 1.5', line('item.deleted', {item: '1'}, {v: 1.5}), 'v must be a positive integer'),
  invalid('v 2', line('item.deleted', {item: '1'}, {v: 2}), 'v 2 is newer than this plugin supports (1)'),
  invalid('no seq', line('item.deleted', {item: '1'}, {seq: undefined}), 'seq is missing', {account: A}),
  invalid('seq 0', line('item.deleted', {item: '1'}, {seq: 0}), 'seq must be an integer ≥ 1', {account: A}),
  invalid('seq as a string', line('item.deleted', {item: '1'}, {seq: '7'}), 'seq must be an integer ≥ 1', {account: A}),
  invalid('seq beyond 2^53-1', line('item.deleted', {item: '1'}, {seq: 2 ** 53}), 'seq must be an integer ≥ 1', {account: A}),
  invalid('no time', line('item.deleted', {item: '1'}, {time: undefined}), 'time is missing'),
  ...[
    ['no zone', '2025-03-01T10:20:00'],
    ['space instead of T', '2025-03-01 10:20:00Z'],
    ['date only', '2025-03-01'],
    ['lower-case t', '2025-03-01t10:20:00Z'],
    ['February 30', '2025-02-30T10:00:00Z'],
    ['February 29 of a common year', '2025-02-29T10:00:00Z'],
    ['1900 is not a leap year', '1900-02-29T10:00:00Z'],
    ['April 31', '2025-04-31T10:00:00Z'],
    ['month 13', '2025-13-01T10:00:00Z'],
    ['hour 24', '2025-03-01T24:00:00Z'],
    ['leap second', '2025-03-01T10:20:60Z'],
    ['10 fraction digits', '2025-03-01T10:20:00.1234567890Z'],
    ['fraction without seconds', '2025-03-01T10:20.5Z'],
    ['offset hour 24', '2025-03-01T10:20:00+24:00'],
    ['offset with seconds', '2025-03-01T10:20:00+01:00:00'],
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['year 10000', '10000-01-01T00:00:00Z'],
    ['basic format', '20250301T102000Z'],
    ['trailing space', '2025-03-01T10:20:00Z '],
    ['empty string', ''],
    ['ms as a string', '1740824400000'],
  ].map(([name, time]) => invalid(`time: ${name}`, line('item.deleted', {item: '1'}, {time}), BAD_TIME)),
  ...([['negative ms', -1], ['fractional ms', 1.5], ['beyond Date', MAX_TIME_MS + 1], ['boolean', true], ['null', null], ['object', {ms: 1}]] as const)
  .map(([name, time]) => invalid(`time: ${name}`, line('item.deleted', {item: '1'}, {time}), BAD_TIME)),
  invalid('no account', line('item.deleted', {item: '1'}, {account: undefined}), 'account is missing', {seq: 7}),
  ...['alice', 'al ice@example.com', 'a@b@c', '@example.com', 'alice@', '', 5].map(account =>
    invalid(`account ${JSON.stringify(account)}`, line('item.deleted', {item: '1'}, {account}), 'account must be an address (local@domain)', {seq: 7})),
  invalid('no op', line('x', {item: '1'}, {op: undefined}), 'op is missing'),
  invalid('op a number', line('x', {item: '1'}, {op: 3}), 'op must be a string'),
  invalid('unknown op', line('item.exploded', {item: '1'}), "unknown op 'item.exploded'"),
  invalid('op in another case', line('Item.Deleted', {item: '1'}), "unknown op 'Item.Deleted'"),
  invalid('op from Object.prototype', line('constructor', {item: '1'}), "unknown op 'constructor'"),
  invalid('no data', line('item.deleted'), 'data is missing'),
  invalid('data null', line('account.deleted', 'null'), 'data must be an object'),
  invalid('data an array', line('item.deleted', '["1"]'), 'data must be an object'),
  invalid('account.created: id empty', line('account.created', '{"id":""}'), 'data.id must be a non-empty string'),
  invalid('account.modified: cos a number', line('account.modified', '{"cos":3}'), 'data.cos must be a non-empty string'),
  invalid('account.modified: settings an array', line('account.modified', '{"settings":[]}'), 'data.settings must be an object'),
  invalid('account.renamed: no name', line('account.renamed', '{}'), 'data.name is missing'),
  invalid('account.renamed: name not an address', line('account.renamed', '{"name":"alice2"}'), 'data.name must be an address (local@domain)'),
  invalid('folder.created: no folder', line('folder.created', '{"path":"/X"}'), 'data.folder is missing'),
  invalid('folder.created: numeric folder id', line('folder.created', '{"folder":257}'), 'data.folder must be a non-empty string'),
  invalid('folder.moved: numeric parent', line('folder.moved', '{"folder":"257","parent":1}'), 'data.parent must be a non-empty string'),
  invalid('folder.renamed: empty path', line('folder.renamed', '{"folder":"257","path":""}'), 'data.path must be a non-empty string'),
  invalid('folder.created: empty view', line('folder.created', '{"folder":"257","view":""}'), 'data.view must be a non-empty string'),
  invalid('folder.created: metadata a string', line('folder.created', '{"folder":"257","metadata":"blue"}'), 'data.metadata must be an object'),
  invalid('folder.deleted: folder null', line('folder.deleted', '{"folder":null}'), 'data.folder must be a non-empty string'),
  invalid('folder.emptied: no folder', line('folder.emptied', '{}'), 'data.folder is missing'),
  invalid('item.created: no item', line('item.created', message({item: undefined})), 'data.item is missing'),
  invalid('item.created: empty item', line('item.created', message({item: ''})), 'data.item must be a non-empty string'),
  invalid('item.created: no type', line('item.created', message({type: undefined})), 'data.type is missing'),
  invalid('item.created: type null', line('item.created', message({type: null})), 'data.type is missing'),
  invalid('item.created: unknown type', line('item.created', message({type: 'note'})), BAD_TYPE),
  invalid('item.created: no folder', line('item.created', message({folder: undefined})), 'data.folder is missing'),
  invalid('item.created: folder null', line('item.created', message({folder: null})), 'data.folder must be a non-empty string'),
  invalid('item.created: message without content', line('item.created', message({content: undefined})), 'data.content is required for a message'),
  invalid('item.created: document, content null', line('item.created', message({type: 'document', content: null})), 'data.content is required for a document'),
  invalid('item.created: flags a string', line('item.created', message({flags: String.raw`\Seen`})), 'data.flags must be an array of non-empty strings'),
  invalid('item.created: flags with a number', line('item.created', message({flags: [String.raw`\Seen`, 1]})), 'data.flags must be an array of non-empty strings'),
  invalid('item.created: tags with an empty one', line('item.created', message({tags: ['']})), 'data.tags must be an array of non-empty strings'),
  invalid('item.created: metadata an array', line('item.created', message({metadata: []})), 'data.metadata must be an object'),
  invalid('content a string', line('item.created', message({content: 'store/1'})), 'data.content must be an object'),
  invalid('content with both', line('item.created', message({content: {path: 'p', inline: 'AAAA'}})), 'data.content needs exactly one of path or inline'),
  invalid('content with neither', line('item.created', message({content: {size: 3}})), 'data.content needs exactly one of path or inline'),
  invalid('content with both null', line('item.created', message({content: {path: null, inline: null}})), 'data.content needs exactly one of path or inline'),
  invalid('content path empty', line('item.created', message({content: {path: ''}})), 'data.content.path must be a non-empty string'),
  invalid('content path a number', line('item.created', message({content: {path: 5}})), 'data.content.path must be a non-empty string'),
  ...['AAA', 'A===', 'AA=A', '====', 'AAAA\n', 'AA-_', 'AAAAA', 12].map(inline =>
    invalid(`content inline ${JSON.stringify(inline)}`, line('item.created', message({content: {inline}})), BAD_INLINE)),
  invalid('content size negative', line('item.created', message({content: {path: 'p', size: -1}})), 'data.content.size must be an integer ≥ 0'),
  invalid('content size a string', line('item.created', message({content: {path: 'p', size: '10'}})), 'data.content.size must be an integer ≥ 0'),
  invalid('content size fractional', line('item.created', message({content: {path: 'p', size: 1.5}})), 'data.content.size must be an integer ≥ 0'),
  invalid('content digest upper case', line('item.created', message({content: {path: 'p', digest: DIGEST.toUpperCase()}})), BAD_DIGEST),
  invalid('content digest too short', line('item.created', message({content: {path: 'p', digest: DIGEST.slice(1)}})), BAD_DIGEST),
  invalid('content digest with a prefix', line('item.created', message({content: {path: 'p', digest: `sha256:${DIGEST}`}})), BAD_DIGEST),
  invalid('content locator empty', line('item.created', message({content: {path: 'p', locator: ''}})), 'data.content.locator must be a non-empty string'),
  invalid('item.modified: content empty', line('item.modified', '{"item":"1","content":{}}'), 'data.content needs exactly one of path or inline'),
  invalid('item.modified: type in another case', line('item.modified', '{"item":"1","type":"Message"}'), BAD_TYPE),
  invalid('item.copied: no source', line('item.copied', '{"item":"1007","folder":"2"}'), 'data.source is missing'),
  invalid('item.copied: source null', line('item.copied', '{"item":"1007","source":null}'), 'data.source must be a non-empty string'),
  invalid('item.moved: no folder', line('item.moved', '{"item":"1"}'), 'data.folder is missing'),
  invalid('item.moved: numeric item', line('item.moved', '{"item":1,"folder":"2"}'), 'data.item must be a non-empty string'),
  invalid('item.flags: no flags', line('item.flags', '{"item":"1"}'), 'data.flags is missing'),
  invalid('item.flags: flags null', line('item.flags', '{"item":"1","flags":null}'), 'data.flags must be an array of non-empty strings'),
  invalid('item.tags: tags an object', line('item.tags', '{"item":"1","tags":{"a":1}}'), 'data.tags must be an array of non-empty strings'),
  invalid('item.deleted: no item', line('item.deleted', '{}'), 'data.item is missing'),
]

function expectedTransaction(row: ValidRow): Transaction {
  const parsed = JSON.parse(row.text)
  return {
    seq: parsed.seq,
    time: row.time ?? parsed.time,
    account: parsed.account,
    origin: {...ORIGIN},
    op: parsed.op,
    data: row.data ?? parsed.data,
  } as Transaction
}

/** The lines of every ```jsonl block of docs/redolog.md: each one is an example line. */
function docExamples(): string[] {
  const blocks = [...DOC.matchAll(/^```jsonl\n([\s\S]*?)^```$/gm)].map(match => match[1])
  return blocks.flatMap(block => block.split('\n').filter(text => text.trim() !== ''))
}

function schemaAccepts(text: string): boolean {
  return validate(JSON.parse(text)) as boolean
}

/**
 * A reason with field names, item types, quoted ops and parenthesised details blanked out: one row of the table in
 * docs/redolog.md covers the same reason for every field it names ("Likewise folder, ...").
 */
function genericReason(text: string): string {
  return text
  .replaceAll(/data\.[a-z.]+/g, 'data.X')
  .replaceAll(/for a [a-z]+/g, 'for a X')
  .replaceAll(/'[\w.]+'/g, "'X'")
  .replaceAll(/ \([^)]*\)/g, '')
}

function schemaErrors(): string {
  return ajv.errorsText(validate.errors)
}

describe('redolog', () => {
  describe('parseRedologLine: valid lines', () => {
    for (const row of VALID) {
      it(row.name, () => {
        const result = parseRedologLine(row.text, ORIGIN)
        assert.ok(result.ok, result.ok ? '' : result.reason)
        assert.deepEqual(result.transaction, expectedTransaction(row))
      })
    }

    it('covers every op, both time forms, inline and path content', () => {
      const parsed = VALID.map(row => JSON.parse(row.text))
      assert.deepEqual(new Set(parsed.map(p => p.op)), new Set(TRANSACTION_OPS))
      assert.ok(parsed.some(p => typeof p.time === 'string') && parsed.some(p => typeof p.time === 'number'))
      assert.ok(parsed.some(p => p.data?.content?.inline !== undefined) && parsed.some(p => p.data?.content?.path !== undefined))
      assert.deepEqual(
        new Set(parsed.filter(p => p.op === 'item.created').map(p => p.data.type)),
        new Set(ITEM_TYPES),
      )
    })

    it('does not keep the caller\'s origin object', () => {
      const origin = {source: 'f', line: 1}
      const result = parseRedologLine(line('item.deleted', {item: '1'}), origin)
      origin.line = 2
      assert.ok(result.ok)
      assert.deepEqual(result.transaction.origin, {source: 'f', line: 1})
    })
  })

  describe('parseRedologLine: invalid lines', () => {
    for (const row of INVALID) {
      it(`${row.name}: ${row.reason}`, () => {
        const result = parseRedologLine(row.text, ORIGIN)
        assert.equal(result.ok, false)
        if (result.ok) return
        if (row.reason === 'not valid JSON') assert.match(result.reason, /^not valid JSON \(.+\)$/)
        else assert.equal(result.reason, row.reason)
        assert.equal(result.account, row.account)
        assert.equal(result.seq, row.seq)
      })
    }

    it('keeps a reason to one short line whatever the input', () => {
      const result = parseRedologLine(line(`x${'y'.repeat(10_000)}`, {}), ORIGIN)
      assert.ok(!result.ok)
      assert.ok(result.reason.length < 120, result.reason)
      const garbage = parseRedologLine(`{${'z'.repeat(10_000)}`, ORIGIN)
      assert.ok(!garbage.ok)
      assert.ok(garbage.reason.length < 120 && !garbage.reason.includes('\n'), garbage.reason)
    })

    it('reads large inline content without a regular expression stack overflow', () => {
      const inline = Buffer.alloc(8 * 1024 * 1024, 7).toString('base64')
      assert.ok(parseRedologLine(line('item.created', message({content: {inline}})), ORIGIN).ok)
      assert.ok(!parseRedologLine(line('item.created', message({content: {inline: `${inline.slice(0, -4)}!AAA`}})), ORIGIN).ok)
    })
  })

  describe('timeToMs', () => {
    it('agrees with Date.parse on the forms both read', () => {
      for (const text of ['2025-03-01T10:20:00Z', '2025-03-01T10:20:00.123+05:30', '1999-12-31T23:59:59.999-08:00', '2038-01-19T03:14:08Z']) {
        assert.equal(timeToMs(text), Date.parse(text), text)
      }
    })

    it('reads the compact offsets', () => {
      assert.equal(timeToMs('2025-03-01T10:20:00+0530'), Date.parse('2025-03-01T10:20:00+05:30'))
      assert.equal(timeToMs('2025-03-01T10:20:00-03'), Date.parse('2025-03-01T10:20:00-03:00'))
      assert.equal(timeToMs('2025-03-01T10:20:00-00:00'), T0)
    })
  })

  describe('docs/redolog.schema.json', () => {
    it('uses the same patterns, ops and item types as the parser', () => {
      const time = SCHEMA.properties.time.oneOf
      assert.equal(time[1].pattern, ISO_TIME_PATTERN)
      assert.equal(time[0].maximum, MAX_TIME_MS)
      assert.equal(SCHEMA.$defs.address.pattern, ADDRESS_PATTERN)
      assert.equal(SCHEMA.$defs.content.properties.digest.pattern, DIGEST_PATTERN)
      assert.equal(SCHEMA.$defs.content.properties.inline.pattern, BASE64_PATTERN)
      assert.deepEqual(SCHEMA.properties.op.enum, [...TRANSACTION_OPS])
      assert.deepEqual(SCHEMA.$defs.itemType.enum, [...ITEM_TYPES])
      assert.equal(SCHEMA.properties.v.const, REDOLOG_VERSION)
      const ruled = SCHEMA.allOf.map((rule: {if: {properties: {op: {const: string}}}}) => rule.if.properties.op.const)
      assert.deepEqual(ruled.sort(), [...TRANSACTION_OPS].sort())
    })

    it('accepts every valid row', () => {
      for (const row of VALID) assert.ok(schemaAccepts(row.text), `${row.name}: ${schemaErrors()}`)
    })

    it('rejects every invalid row that is JSON', () => {
      for (const row of INVALID) {
        let value: unknown
        try {
          value = JSON.parse(row.text)
        } catch {
          continue
        }

        assert.equal(validate(value), false, `${row.name} should be rejected by the schema`)
      }
    })

    it('agrees with the parser on mutations of valid lines', () => {
      const random = seededRandom(20_250_301)
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]
      const seeds = [...VALID.map(row => row.text), ...docExamples()]
      let checked = 0
      let accepted = 0
      for (let i = 0; i < 6000; i++) {
        const value = JSON.parse(pick(seeds).trimEnd())
        const paths = pathsOf(value)
        // One or two changes: enough to reach every rule, few enough to stay near valid lines.
        for (let changes = 1 + Math.floor(random() * 2); changes > 0; changes--) setPath(value, pick(paths), pick(REPLACEMENTS))
        const text = JSON.stringify(value)
        const parsed = parseRedologLine(text, ORIGIN)
        const schema = validate(value) as boolean
        assert.equal(parsed.ok, schema, `${text}\nparser: ${parsed.ok ? 'ok' : parsed.reason}\nschema: ${schema ? 'ok' : schemaErrors()}`)
        checked++
        if (schema) accepted++
      }

      // Both outcomes are well represented, so agreement means something.
      assert.ok(accepted > checked / 10 && accepted < checked * 0.9, `${accepted} of ${checked} accepted`)
    })
  })

  describe('docs/redolog.md', () => {
    const examples = docExamples()

    it('has an example line for every op', () => {
      assert.deepEqual(new Set(examples.map(text => JSON.parse(text).op)), new Set(TRANSACTION_OPS))
    })

    for (const [index, text] of examples.entries()) {
      it(`example ${index + 1} (${JSON.parse(text).op}) is valid for the parser and the schema`, () => {
        const parsed = parseRedologLine(text, ORIGIN)
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
        assert.ok(schemaAccepts(text), schemaErrors())
      })
    }

    it('inline examples carry the size and digest of their bytes', async () => {
      const {createHash} = await import('node:crypto')
      for (const text of examples) {
        const content = JSON.parse(text).data?.content
        if (content?.inline === undefined) continue
        const bytes = Buffer.from(content.inline, 'base64')
        assert.equal(bytes.length, content.size)
        assert.equal(createHash('sha256').update(bytes).digest('hex'), content.digest)
      }
    })

    it('lists the reasons the parser gives', () => {
      const doc = genericReason(DOC)
      for (const row of INVALID) assert.ok(doc.includes(genericReason(row.reason)), `docs/redolog.md does not mention "${row.reason}"`)
    })
  })

  describe('file names', () => {
    it('formats and parses redo-<20 digits>.log', () => {
      assert.equal(formatRedologFileName(1), 'redo-00000000000000000001.log')
      assert.equal(formatRedologFileName(183_457), 'redo-00000000000000183457.log')
      assert.equal(parseRedologFileName('redo-00000000000000183457.log'), 183_457)
      assert.equal(parseRedologFileName(formatRedologFileName(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
    })

    it('refuses seqs a file cannot start at', () => {
      for (const seq of [0, -1, 1.5, 2 ** 53, Number.NaN]) assert.throws(() => formatRedologFileName(seq), RangeError)
    })

    it('parses only exact names', () => {
      for (const name of [
        'redo-1.log',
        'redo-00000000000000000000.log',
        'redo-000000000000000000001.log',
        'redo-00000000000000000001.log.tmp',
        'REDO-00000000000000000001.log',
        'redo-0000000000000000000a.log',
        'redo-99999999999999999999.log',
        'x-redo-00000000000000000001.log',
      ]) {
        assert.equal(parseRedologFileName(name), undefined, name)
      }
    })

    it('lists a directory oldest first, ignoring foreign files and reporting broken names', () => {
      const names = [formatRedologFileName(402_118), 'README', formatRedologFileName(1), 'redo-42.log', formatRedologFileName(183_457), '.nfs0001']
      const {files, rejected} = listRedologFiles(names)
      assert.deepEqual(files.map(f => f.firstSeq), [1, 183_457, 402_118])
      assert.deepEqual(rejected.map(r => r.name), ['redo-42.log'])
      assert.match(rejected[0].reason, /not a redolog file name/)
      assert.equal(currentRedologFile(files)?.firstSeq, 402_118)
      assert.equal(currentRedologFile([]), undefined)
      assert.deepEqual([...files].reverse().sort(compareRedologFiles), files)
    })

    it('sorts by number, not by the bytes of the name', () => {
      const {files} = listRedologFiles([formatRedologFileName(10), formatRedologFileName(9)])
      assert.deepEqual(files.map(f => f.firstSeq), [9, 10])
    })

    it('finds the file holding a seq', () => {
      const {files} = listRedologFiles([1, 100, 200].map(seq => formatRedologFileName(seq)))
      assert.equal(redologFileFor(files, 1)?.firstSeq, 1)
      assert.equal(redologFileFor(files, 99)?.firstSeq, 1)
      assert.equal(redologFileFor(files, 100)?.firstSeq, 100)
      assert.equal(redologFileFor(files, 10_000)?.firstSeq, 200)
      assert.equal(redologFileFor(listRedologFiles([formatRedologFileName(50)]).files, 10), undefined)
      assert.equal(redologFileFor([], 10), undefined)
    })
  })
})

/** Values that break (or keep) each rule: wrong types, empty, null, edge numbers, near-valid strings. */
const REPLACEMENTS: readonly unknown[] = [
  undefined,
  undefined,
  null,
  null,
  '',
  'x',
  'Message',
  'message',
  'document',
  'contact',
  0,
  1,
  2,
  -1,
  1.5,
  2 ** 53,
  true,
  [],
  ['a'],
  [''],
  [1],
  {},
  {a: 1},
  'a@b',
  'a b@c',
  '2024-02-29T10:00:00Z',
  '2023-02-29T10:00:00Z',
  '2025-03-01T10:20:00+0530',
  '2025-03-01T10:20',
  1_740_824_400_000,
  'AAAA',
  'AAA',
  'AA==',
  DIGEST,
  DIGEST.toUpperCase(),
  {path: 'p'},
  {inline: 'AAAA'},
  {path: 'p', inline: 'AAAA'},
  {size: 1},
  'item.created',
  'item.exploded',
  'account.renamed',
]

/** Every property path of a line down to content fields and list entries (the root itself excluded). */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return []
  const paths: string[][] = []
  for (const [key, child] of Object.entries(value)) {
    const here = [...prefix, key]
    paths.push(here)
    if (prefix.length < 3) paths.push(...pathsOf(child, here))
  }

  // New fields too: required ones that are absent, and unknown ones.
  if (prefix.length === 0) paths.push(['v'], ['seq'], ['time'], ['account'], ['op'], ['data'], ['extra'])
  if (prefix.length === 1 && prefix[0] === 'data') {
    for (const key of ['item', 'type', 'folder', 'flags', 'tags', 'metadata', 'content', 'source', 'name', 'parent', 'path', 'settings']) paths.push(['data', key])
  }

  return paths
}

function setPath(root: Record<string, any>, keys: string[], replacement: unknown): void {
  let target: any = root
  for (const key of keys.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null) return
    target = target[key]
  }

  const last = keys.at(-1)!
  if (replacement === undefined) delete target[last]
  else target[last] = structuredClone(replacement)
}

/** A small seeded generator (an LCG: plenty for picking test cases), so that a failure can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296
  }
}
