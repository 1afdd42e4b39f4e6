// The ceiling that SQLite itself puts on the redolog ingest (issue 3), measured on this machine through the pinned
// driver (sqlite3 6) with the catalog's pragmas: one revision row per transaction, written in batches of 8,000 as
// one bulk statement per batch inside one database transaction, as the scanner does, and NOTHING else: no line
// parsing, no validation, no items, folders or blobs tables, no checkpoint. Whatever the scanner does above these
// statements only lowers its rate, so each variant's rows/s is an upper bound for the ingest with that storage layout:
//
//   append         a rowid table alone (no way to read one item's history: a lower bound of any layout's cost)
//   item-index     + an index on (item_id, valid_from), the least a per-item history read needs
//   close-previous + closing the previous revision's validity (valid_to), the catalog's layout (0001-initial-schema)
//   clustered      revisions stored WITHOUT ROWID in (item_id, valid_from) order, validity derived from the next one
//
// Half the transactions create an item (a new, increasing item id) and half change an existing one at random, the
// shape of the generated redolog (mostly creates and flag changes).
//
//   npx tsx bench/sqlite-revision-floor.ts [--rows 1000000]
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import sqlite3 from 'sqlite3'

import {describeMachine, loadAverage} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values} = parseArgs({options: {rows: {type: 'string', default: '1000000'}}})
const ROWS = Number(values.rows)
const BATCH = 8000
// The catalog's own settings (src/engine/catalog/open-catalog.ts), but foreign keys: there is no other table here.
const PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'cache_size = -32768', 'wal_autocheckpoint = 16384']
const METADATA = JSON.stringify({
  messageId: '<2644335db8f7.500001@example.com>', subject: 'Invoice #42014', from: 'pietro.fontana@example.com',
  to: ['chiara.bruno.2@example.org'], date: '2026-01-05T14:56:28.668Z', attachments: ['holidays-35.pdf'],
})

type Variant = 'append' | 'clustered' | 'close-previous' | 'item-index'

const STATE_COLUMNS = 'operation TEXT NOT NULL, folder TEXT, flags TEXT NOT NULL, metadata TEXT NOT NULL, blob_digest TEXT'
const SCHEMAS: Record<Variant, string[]> = {
  append: [`CREATE TABLE rev (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_to INTEGER, ${STATE_COLUMNS})`],
  'item-index': [],
  'close-previous': [],
  clustered: [`CREATE TABLE rev (item_id INTEGER NOT NULL, valid_from INTEGER NOT NULL, ${STATE_COLUMNS}, PRIMARY KEY (item_id, valid_from)) WITHOUT ROWID`],
}
SCHEMAS['item-index'] = [...SCHEMAS.append, 'CREATE INDEX rev_item ON rev (item_id, valid_from)']
SCHEMAS['close-previous'] = SCHEMAS['item-index']

function exec(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    db.run(sql, params, error => (error ? reject(error) : resolve()))
  })
}

/** A small seeded generator, so every variant writes the same rows. */
function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = ((state * 1_103_515_245) + 12_345) & 0x7F_FF_FF_FF
    return state
  }
}

async function measure(variant: Variant, dir: string): Promise<Record<string, unknown>> {
  const db = new sqlite3.Database(path.join(dir, `${variant}.sqlite`))
  for (const pragma of PRAGMAS) await exec(db, `PRAGMA ${pragma}`)
  for (const statement of SCHEMAS[variant]) await exec(db, statement)
  const random = seeded(12_345)
  let nextItem = 1
  let time = 1_767_600_000_000
  const started = performance.now()
  const cpu = process.cpuUsage()
  for (let written = 0; written < ROWS; written += BATCH) {
    const rows: unknown[][] = []
    for (let i = 0; i < BATCH; i++) {
      const item = random() % 2 || nextItem === 1 ? nextItem++ : 1 + (random() % (nextItem - 1))
      const digest = random() % 2 ? `${random().toString(16)}${random().toString(16)}`.padEnd(64, '0') : null
      rows.push([item, time++, 'item.flags', '2', String.raw`["\\Seen"]`, METADATA, digest])
    }

    await exec(db, 'BEGIN IMMEDIATE')
    if (variant === 'close-previous') {
      await exec(db, `UPDATE rev SET valid_to = ? WHERE valid_to IS NULL AND id IN
        (SELECT max(id) FROM rev WHERE item_id IN (SELECT value FROM json_each(?)) GROUP BY item_id)`, [time, JSON.stringify(rows.map(row => row[0]))])
    }

    await exec(db, `INSERT INTO rev (item_id, valid_from, operation, folder, flags, metadata, blob_digest)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 FROM jsonb_each(?)`, [JSON.stringify(rows)])
    await exec(db, 'COMMIT')
  }

  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  await new Promise<void>((resolve, reject) => {
    db.close(error => (error ? reject(error) : resolve()))
  })
  const result = {
    variant,
    rows: ROWS,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecond: Math.round(ROWS / seconds),
    cpuSeconds: Math.round((used.user + used.system) / 1e4) / 100,
    loadAverageAfter: loadAverage(),
  }
  console.log(`${variant}: ${result.rowsPerSecond} rows/s (${result.seconds} s, CPU ${result.cpuSeconds} s)`)
  return result
}

const machine = describeMachine()
const dir = mkdtempSync(path.join(tmpdir(), 'cb-bench-sqlite-floor-'))
const variants: Variant[] = ['append', 'item-index', 'close-previous', 'clustered']
const results = []
try {
  for (const variant of variants) results.push(await measure(variant, dir))
} finally {
  rmSync(dir, {recursive: true, force: true})
}

mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, '')
const file = path.join(ROOT, 'bench', 'results', `sqlite-revision-floor-${stamp}.json`)
writeFileSync(file, `${JSON.stringify({
  benchmark: 'sqlite-revision-floor', machine, batch: BATCH, pragmas: PRAGMAS, results,
}, null, 2)}\n`)
console.log(`results: ${path.relative(ROOT, file)}`)
