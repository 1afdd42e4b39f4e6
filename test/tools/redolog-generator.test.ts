import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {parseRedologLine as parsePluginLine} from '../../src/engine/appserver/redolog/parse-line.js'
import {
  ITEM_TYPES, type Transaction, TRANSACTION_OPS, type TransactionOp,
} from '../../src/engine/appserver/transaction.js'
import {
  DEFAULT_MIX, generateRedolog, type RedologOptions, type RedologSummary,
} from '../../src/tools/redolog-generator.js'
import {ReferenceModel} from '../../src/tools/reference-model.js'

const run = promisify(execFile)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const START = Date.parse('2025-02-01T00:00:00Z')
const DAY = 86_400_000
const HEX64 = /^[0-9a-f]{64}$/
const ID = /^\d+$/
const ADDRESS = /^[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+$/

/** Every op made likely, so that a few thousand transactions exercise all of them. */
const BUSY_MIX: Partial<Record<TransactionOp, number>> = {
  'account.created': 0.5,
  'account.deleted': 0.4,
  'account.modified': 1,
  'account.renamed': 0.5,
  'folder.created': 4,
  'folder.deleted': 1.5,
  'folder.emptied': 1.5,
  'folder.moved': 2,
  'folder.renamed': 2,
}

interface Line {
  file: string
  line: number
  raw: string
  value: {account: string; data: Record<string, any>; op: TransactionOp; seq: number; time: number | string; v: number}
}

function readLines(dir: string): Line[] {
  const lines: Line[] = []
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name)
    const text = readFileSync(file, 'utf8')
    assert.ok(text.endsWith('\n'), `${name} ends with a newline`)
    for (const [i, raw] of text.slice(0, -1).split('\n').entries()) {
      let value: Line['value']
      try {
        value = JSON.parse(raw)
      } catch {
        assert.fail(`${name}:${i + 1} is not JSON: ${raw.slice(0, 80)}`)
      }

      lines.push({
        file: name, line: i + 1, raw, value,
      })
    }
  }

  return lines
}

/** The allowed and required data keys per op, as docs/redolog.md and transaction.ts describe them. */
const DATA_SHAPE: Record<TransactionOp, {allowed: string[]; required: string[]}> = {
  'account.created': {allowed: ['id', 'cos', 'settings'], required: ['id']},
  'account.deleted': {allowed: [], required: []},
  'account.modified': {allowed: ['id', 'cos', 'settings'], required: []},
  'account.renamed': {allowed: ['name'], required: ['name']},
  'folder.created': {allowed: ['folder', 'parent', 'path', 'view', 'metadata'], required: ['folder', 'path']},
  'folder.deleted': {allowed: ['folder'], required: ['folder']},
  'folder.emptied': {allowed: ['folder'], required: ['folder']},
  'folder.moved': {allowed: ['folder', 'parent', 'path'], required: ['folder', 'parent', 'path']},
  'folder.renamed': {allowed: ['folder', 'parent', 'path'], required: ['folder', 'path']},
  'item.copied': {allowed: ['item', 'source', 'folder', 'flags', 'tags'], required: ['item', 'source', 'folder']},
  'item.created': {
    allowed: ['item', 'type', 'folder', 'flags', 'tags', 'metadata', 'content'],
    required: ['item', 'type', 'folder', 'flags', 'tags', 'metadata'],
  },
  'item.deleted': {allowed: ['item'], required: ['item']},
  'item.flags': {allowed: ['item', 'flags'], required: ['item', 'flags']},
  'item.modified': {allowed: ['item', 'metadata', 'content', 'flags', 'tags'], required: ['item']},
  'item.moved': {allowed: ['item', 'folder'], required: ['item', 'folder']},
  'item.tags': {allowed: ['item', 'tags'], required: ['item', 'tags']},
}

function checkShape({file, line, value}: Line, timeFormat: 'iso' | 'iso-offset' | 'ms' = 'iso'): void {
  const where = `${file}:${line}`
  assert.deepEqual(Object.keys(value), ['v', 'seq', 'time', 'account', 'op', 'data'], where)
  assert.equal(value.v, 1, where)
  assert.ok(Number.isSafeInteger(value.seq) && value.seq > 0, where)
  if (timeFormat === 'ms') assert.ok(Number.isSafeInteger(value.time), where)
  else {
    const zone = timeFormat === 'iso' ? 'Z' : String.raw`\+02:00`
    assert.match(String(value.time), new RegExp(String.raw`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}${zone}$`), where)
  }

  assert.match(value.account, ADDRESS, where)
  assert.ok(TRANSACTION_OPS.includes(value.op), `${where}: op ${value.op}`)
  checkData(value, where)
}

function checkData({data, op}: Line['value'], where: string): void {
  assert.equal(typeof data, 'object', where)
  const shape = DATA_SHAPE[op]
  for (const key of Object.keys(data)) assert.ok(shape.allowed.includes(key), `${where}: ${op} has no ${key}`)
  for (const key of shape.required) assert.ok(key in data, `${where}: ${op} needs ${key}`)
  for (const key of ['item', 'folder', 'parent', 'source']) if (key in data) assert.match(data[key], ID, `${where}: ${key}`)
  for (const key of ['flags', 'tags']) {
    if (key in data) assert.ok(Array.isArray(data[key]) && data[key].every((f: unknown) => typeof f === 'string'), where)
  }

  if ('type' in data) assert.ok(ITEM_TYPES.includes(data.type), where)
  if ('view' in data) assert.ok(ITEM_TYPES.includes(data.view), where)
  if ('path' in data) assert.match(data.path, /^(\/[^/]+)+$/, where)
  if ('metadata' in data) assert.ok(typeof data.metadata === 'object' && !Array.isArray(data.metadata), where)
  if (op === 'account.renamed') assert.match(data.name, ADDRESS, where)
  if (op === 'item.modified') assert.ok(Object.keys(data).length > 1, `${where}: item.modified changes something`)
  if (op === 'item.created' && (data.type === 'message' || data.type === 'document')) {
    assert.ok('content' in data, `${where}: content is required for a ${data.type}`)
  }

  if ('content' in data) checkContent(data.content, where)
}

function checkContent(content: Record<string, any>, where: string): void {
  assert.equal(('path' in content ? 1 : 0) + ('inline' in content ? 1 : 0), 1, `${where}: path or inline`)
  assert.deepEqual(Object.keys(content).filter(k => k !== 'path' && k !== 'inline').sort(), ['digest', 'size'], where)
  assert.match(content.digest, HEX64, where)
  assert.ok(Number.isSafeInteger(content.size) && content.size > 0, where)
  if ('path' in content) assert.ok(path.isAbsolute(content.path), where)
}

function timeOf(value: Line['value']): number {
  return typeof value.time === 'number' ? value.time : Date.parse(value.time)
}

describe('redolog generator', function () {
  this.timeout(120_000)
  let tmp: string

  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'redolog-generator-'))
  })

  after(() => {
    rmSync(tmp, {force: true, recursive: true})
  })

  const generate = (name: string, options: Partial<RedologOptions>): Promise<RedologSummary> =>
    generateRedolog({
      accounts: 20,
      transactions: 3000,
      seed: 42,
      startTime: START,
      redologDir: path.join(tmp, name, 'redolog'),
      storeDir: path.join(tmp, name, 'store'),
      ...options,
    })

  const files = (name: string) => readdirSync(path.join(tmp, name, 'redolog')).sort()
  /** A redolog file's text with the store directory, the one thing that differs between two runs, masked. */
  const text = (name: string, file: string) =>
    readFileSync(path.join(tmp, name, 'redolog', file), 'utf8').replaceAll(path.join(tmp, name, 'store'), '<store>')
  const blobs = (name: string) =>
    readdirSync(path.join(tmp, name, 'store'), {recursive: true, withFileTypes: true})
    .filter(e => e.isFile())
    .map(e => e.name)
    .sort()

  it('is deterministic for a seed, and another seed gives another log', async () => {
    const a = await generate('det-a', {})
    const b = await generate('det-b', {})
    const c = await generate('det-c', {seed: 43})
    assert.deepEqual(files('det-a'), files('det-b'))
    for (const file of files('det-a')) assert.equal(text('det-a', file), text('det-b', file), file)
    assert.notEqual(text('det-a', files('det-a')[0]), text('det-c', files('det-c')[0]))
    assert.ok(blobs('det-a').length > 100)
    assert.deepEqual(blobs('det-a'), blobs('det-b'))
    assert.deepEqual(a, b)
    assert.notDeepEqual(a.ops, c.ops)
  })

  it('numbers lines contiguously across rotated files, each named after its first seq', async () => {
    const summary = await generate('rotate', {
      transactions: 5000, rotateEvery: 700, metadataOnly: true, firstSeq: 1001,
    })
    const dir = path.join(tmp, 'rotate', 'redolog')
    const names = readdirSync(dir).sort()
    assert.equal(names.length, 8)
    assert.equal(summary.redologFiles, 8)
    let expected = 1001
    for (const name of names) {
      assert.equal(name, `redo-${String(expected).padStart(20, '0')}.log`)
      const lines = readFileSync(path.join(dir, name), 'utf8').trimEnd().split('\n')
      assert.equal(lines.length, name === names.at(-1) ? 5000 - (7 * 700) : 700)
      for (const line of lines) assert.equal(JSON.parse(line).seq, expected++)
    }

    assert.equal(expected, 6001)
    assert.deepEqual([summary.firstSeq, summary.lastSeq, summary.transactions], [1001, 6000, 5000])
  })

  describe('a run with every operation', () => {
    let summary: RedologSummary
    let lines: Line[]
    let model: ReferenceModel
    const emitted: Transaction[] = []

    before(async () => {
      model = new ReferenceModel()
      summary = await generate('busy', {
        transactions: 6000,
        rotateEvery: 1000,
        mix: BUSY_MIX,
        spacingMs: 60_000,
        onTransaction(tx) {
          model.apply(tx)
          if (emitted.length < 50) emitted.push(tx)
        },
      })
      lines = readLines(path.join(tmp, 'busy', 'redolog'))
    })

    it('writes every line in the documented shape, with every operation present', () => {
      assert.equal(lines.length, 6000)
      const seen = new Map<string, number>()
      for (const line of lines) {
        checkShape(line)
        seen.set(line.value.op, (seen.get(line.value.op) ?? 0) + 1)
      }

      for (const op of TRANSACTION_OPS) assert.ok((seen.get(op) ?? 0) > 0, `${op} appears`)
      assert.deepEqual(Object.fromEntries(seen), Object.fromEntries(Object.entries(summary.ops).filter(([, n]) => n > 0)))
    })

    it("is accepted by the plugin's own line parser, which keeps every field it was given", () => {
      for (const line of lines) {
        const parsed = parsePluginLine(line.raw, {source: line.file, line: line.line})
        assert.ok(parsed.ok, `${line.file}:${line.line}: ${parsed.ok ? '' : parsed.reason}`)
        const {account, data, op, seq, time} = parsed.transaction
        const {v, ...expected} = line.value
        assert.equal(v, 1)
        assert.deepEqual({
          account, data, op, seq, time,
        }, {...expected, time: timeOf(line.value)}, `${line.file}:${line.line}`)
      }
    })

    it('hands each transaction to onTransaction as the line it wrote, with file and line as origin', () => {
      assert.equal(emitted.length, 50)
      for (const tx of emitted.slice(0, 50)) {
        const line = lines[tx.seq - 1]
        assert.deepEqual(tx.origin, {source: path.join(tmp, 'busy', 'redolog', line.file), line: line.line})
        assert.equal(tx.time, timeOf(line.value))
        assert.deepEqual([tx.account, tx.op, tx.data], [line.value.account, line.value.op, line.value.data])
      }
    })

    it('starts at startTime, and times strictly increase with the mean spacing asked for', () => {
      const times = lines.map(l => timeOf(l.value))
      assert.equal(times[0], START)
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], `time of seq ${i + 1} increases`)
      const mean = (times.at(-1)! - times[0]) / (times.length - 1)
      assert.ok(mean > 60_000 * 0.9 && mean < 60_000 * 1.1, `mean gap ${mean} ms`)
      assert.deepEqual([summary.firstTime, summary.lastTime], [new Date(times[0]).toISOString(), new Date(times.at(-1)!).toISOString()])
    })

    it('only refers to accounts, folders and items that exist: the model replays it without an anomaly', () => {
      assert.deepEqual(model.anomalies, [])
      assert.equal(model.transactions, 6000)
    })

    it('ends in the state the generator reports', () => {
      const end = model.lastTime!
      const accounts = model.accountsAt(end)
      let folders = 0
      let items = 0
      for (const account of accounts) {
        const state = model.stateAt(account, end)!
        folders += state.folders.filter(f => !f.deleted).length
        items += state.items.length
      }

      assert.deepEqual([accounts.length, folders, items], [summary.liveAccounts, summary.liveFolders, summary.liveItems])
      assert.ok(summary.liveItems > 1000)
    })

    it('gives the same model whether read from the files or from the objects it emitted', async () => {
      const fromFiles = await ReferenceModel.fromRedologDir(path.join(tmp, 'busy', 'redolog'))
      assert.equal(fromFiles.anomalyCount, 0)
      const first = timeOf(lines[0].value)
      const last = timeOf(lines.at(-1)!.value)
      let compared = 0
      for (let i = 0; i < 25; i++) {
        const time = first + Math.floor(((last - first) * (i + 0.5)) / 25)
        const accounts = model.accountsAt(time)
        assert.deepEqual(fromFiles.accountsAt(time), accounts)
        for (const account of accounts) {
          assert.deepEqual(fromFiles.stateAt(account, time), model.stateAt(account, time), `${account} at ${time}`)
          compared++
        }
      }

      assert.ok(compared > 100)
    })

    it('writes content files and inline content whose sha256 and size are the ones announced', () => {
      const store = path.join(tmp, 'busy', 'store')
      const files = new Set<string>()
      let inline = 0
      for (const {value} of lines) {
        const content = value.data.content as undefined | {digest: string; inline?: string; path?: string; size: number}
        if (!content) continue
        const bytes = content.path === undefined ? Buffer.from(content.inline!, 'base64') : readFileSync(content.path)
        assert.equal(bytes.length, content.size, content.path ?? 'inline')
        assert.equal(createHash('sha256').update(bytes).digest('hex'), content.digest, content.path ?? 'inline')
        if (content.path === undefined) inline++
        else {
          assert.equal(content.path, path.join(store, content.digest.slice(0, 2), content.digest))
          files.add(content.path)
        }
      }

      const onDisk = readdirSync(store, {recursive: true, withFileTypes: true}).filter(e => e.isFile())
      assert.equal(onDisk.length, files.size, 'no file in the store that no line refers to')
      assert.equal(summary.storeFiles, files.size)
      assert.ok(inline > 50, `some content travels inline (${inline})`)
    })

    it('writes messages as RFC 822 with CRLF lines, a Message-ID and a size within the blob range', () => {
      let messages = 0
      let withAttachment = 0
      for (const {value} of lines) {
        if (value.op !== 'item.created' || value.data.type !== 'message') continue
        const text = readFileSync(value.data.content.path, 'latin1')
        assert.match(text, /^Return-Path: </)
        assert.ok(text.includes(`\r\nMessage-ID: ${value.data.metadata.messageId}\r\n`), value.data.content.path)
        assert.ok(text.includes(`\r\nSubject: ${value.data.metadata.subject}\r\n`))
        assert.doesNotMatch(text, /[^\r]\n/, 'no bare LF')
        assert.ok(text.length >= 2048 && text.length <= 51_200, `size ${text.length}`)
        if (text.includes('Content-Disposition: attachment')) withAttachment++
        messages++
      }

      assert.ok(messages > 500)
      assert.ok(withAttachment > messages * 0.1 && withAttachment < messages * 0.5, `${withAttachment} of ${messages} with attachment`)
    })

    it('gives contacts, appointments, tasks and documents their own metadata', () => {
      const keys: Record<string, string> = {}
      for (const {value} of lines) {
        if (value.op === 'item.created' && value.data.type !== 'message') {
          keys[value.data.type] ??= Object.keys(value.data.metadata).sort().join(',')
        }
      }

      assert.deepEqual(keys, {
        appointment: 'attendees,end,location,organizer,sequence,start,summary,uid',
        contact: 'company,email,firstName,fullName,lastName,phone,revision',
        document: 'author,contentType,name,version',
        task: 'due,percentComplete,priority,status,summary,uid',
      })
    })
  })

  it('keeps the default mix: mostly creations and flag changes, and repeated content across accounts', async () => {
    const summary = await generate('default', {transactions: 20_000, accounts: 50})
    // Each account starts with its 8 system folders; the mix is about what happens afterwards.
    const setup = 8 * summary.accountsCreated
    const share = (op: TransactionOp) => (summary.ops[op] - (op === 'folder.created' ? setup : 0)) / summary.transactions
    assert.ok(share('item.created') > 0.4 && share('item.created') < 0.55, `item.created ${share('item.created')}`)
    assert.ok(share('item.flags') > 0.22 && share('item.flags') < 0.32, `item.flags ${share('item.flags')}`)
    for (const op of ['item.moved', 'item.deleted', 'item.tags', 'item.modified', 'item.copied', 'folder.created'] as const) {
      const expected = DEFAULT_MIX[op] / 100
      assert.ok(Math.abs(share(op) - expected) < expected * 0.35, `${op} ${share(op)} vs ${expected}`)
    }

    const owners = new Map<string, Set<string>>()
    for (const {value} of readLines(path.join(tmp, 'default', 'redolog'))) {
      const digest = value.data.content?.digest
      if (digest) owners.set(digest, (owners.get(digest) ?? new Set()).add(value.account))
    }

    const shared = [...owners.values()].filter(accounts => accounts.size > 1).length
    assert.ok(shared > 100, `${shared} contents appear in several accounts`)
    assert.equal(owners.size, summary.distinctBlobs)
    assert.ok(summary.contentBytes > summary.distinctBytes * 1.1, 'dedup pays')
    assert.equal(summary.itemsCreated.message + summary.itemsCreated.contact + summary.itemsCreated.appointment
      + summary.itemsCreated.task + summary.itemsCreated.document, summary.ops['item.created'])
    assert.ok(summary.itemsCreated.message > summary.ops['item.created'] * 0.7)
  })

  it('stays fast: 20,000 transactions with content and 20,000 metadata-only', async () => {
    let began = performance.now()
    await generate('fast-content', {transactions: 20_000, accounts: 100})
    const contentMs = performance.now() - began
    began = performance.now()
    await generate('fast-meta', {transactions: 20_000, accounts: 100, metadataOnly: true})
    const metaMs = performance.now() - began
    // Generous bounds for a shared, loaded machine: typical figures are about 3 s and 0.3 s.
    assert.ok(contentMs < 30_000, `with content: ${Math.round(contentMs)} ms`)
    assert.ok(metaMs < 5000, `metadata-only: ${Math.round(metaMs)} ms`)
  })

  it('writes no content in metadata-only mode, only the references the format requires', async () => {
    const summary = await generate('meta', {metadataOnly: true, storeDir: undefined})
    let references = 0
    for (const line of readLines(path.join(tmp, 'meta', 'redolog'))) {
      checkShape(line)
      const {data, op} = line.value
      const where = `${line.file}:${line.line}`
      if ((op === 'item.created' && (data.type === 'message' || data.type === 'document')) || (op === 'item.modified' && data.content)) {
        assert.deepEqual(Object.keys(data.content).sort(), ['digest', 'path', 'size'], where)
        assert.equal(existsSync(data.content.path), false, where)
        references++
      } else assert.equal('content' in data, false, where)
    }

    assert.equal(summary.contentRefs, references)
    assert.ok(references > 1000)
    assert.deepEqual([summary.storeFiles, summary.inlineBlobs], [0, 0])
    assert.equal(existsSync(path.join(tmp, 'meta', 'store')), false)
  })

  it('writes times with a zone offset or in ms when asked, for the same instants', async () => {
    await generate('iso', {
      transactions: 300, mix: BUSY_MIX, spacingMs: 60_000, metadataOnly: true,
    })
    await generate('offset', {
      transactions: 300, timeFormat: 'iso-offset', mix: BUSY_MIX, spacingMs: 60_000, metadataOnly: true,
    })
    await generate('ms', {
      transactions: 300, timeFormat: 'ms', mix: BUSY_MIX, spacingMs: 60_000, metadataOnly: true,
    })
    const offset = readLines(path.join(tmp, 'offset', 'redolog'))
    const ms = readLines(path.join(tmp, 'ms', 'redolog'))
    const base = readLines(path.join(tmp, 'iso', 'redolog'))
    assert.equal(offset.length, 300)
    for (const [i, line] of offset.entries()) {
      checkShape(line, 'iso-offset')
      checkShape(ms[i], 'ms')
      assert.equal(timeOf(line.value), timeOf(base[i].value))
      assert.equal(timeOf(ms[i].value), timeOf(base[i].value))
    }
  })

  it('ends no later than endTime, even when the random gaps would run past it', async () => {
    const end = START + 10_000
    const summary = await generate('end', {
      transactions: 2000, metadataOnly: true, endTime: end, spacingMs: 1000,
    })
    const times = readLines(path.join(tmp, 'end', 'redolog')).map(l => timeOf(l.value))
    assert.ok(times.at(-1)! <= end, `last ${times.at(-1)! - START} ms after start`)
    for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1])
    assert.equal(summary.lastTime, new Date(times.at(-1)!).toISOString())
  })

  it('refuses a directory that already holds a redolog, and bad options', async () => {
    const dir = path.join(tmp, 'taken', 'redolog')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'redo-00000000000000000001.log'), '')
    await assert.rejects(generate('taken', {metadataOnly: true}), /already holds a redolog/)
    await assert.rejects(generate('bad1', {accounts: 0}), /accounts must be a positive integer/)
    await assert.rejects(generate('bad2', {storeDir: undefined}), /storeDir is needed unless metadataOnly/)
    await assert.rejects(generate('bad3', {blobSize: {min: 10, max: 5}}), /blobSize.max/)
    await assert.rejects(generate('bad4', {endTime: START + 10, transactions: 100}), /less than 1 ms per transaction/)
  })

  it('has a command-line entry that writes redolog/ and store/ and prints the summary', async () => {
    const cli = path.join(ROOT, 'src/tools/generate-redolog-cli.ts')
    const out = path.join(tmp, 'cli')
    const before = Date.now()
    const {stdout} = await run(process.execPath, ['--import', 'tsx', cli, '--out', out, '--accounts', '3', '--transactions', '400', '--days-ago', '2'], {cwd: ROOT})
    const summary = JSON.parse(stdout)
    assert.deepEqual([summary.transactions, summary.accountsCreated, summary.redologDir], [400, 3, path.join(out, 'redolog')])
    assert.ok(Date.parse(summary.firstTime) >= before - (2 * DAY) - 1000 && Date.parse(summary.firstTime) <= Date.now() - (2 * DAY))
    assert.ok(Date.parse(summary.lastTime) <= Date.now())
    assert.equal(readLines(path.join(out, 'redolog')).length, 400)
    assert.ok(readdirSync(path.join(out, 'store')).length > 0)
    const failure = await run(process.execPath, ['--import', 'tsx', cli, '--accounts', '3'], {cwd: ROOT}).catch(error => error)
    assert.equal(failure.code, 2)
    assert.match(failure.stderr, /^generate-redolog: --out <dir> is required/)
    assert.equal(failure.stdout, '')
  })
})
