// Purge benchmark (issue 5): a catalog of 1,000,000 item revisions, then
//   1. a purge with nothing to purge (target: under 1 s), timed inside the engine and through the real CLI;
//   2. a purge of the 1% of items deleted past retention, through the real CLI in a child process, with its time
//      and peak RSS (GNU time), next to the peak RSS of a CLI command that does nothing (node + oclif + catalog).
//
// The catalog is written straight into the tables in bulk (the catalog's own bulkInsert), not by generating a
// redolog and letting the scanner ingest it: metadata-only ingest runs at about 5,000 transactions/s on this kind
// of machine, minutes for a million, and a direct load gives exact control over what is purgeable. Rows look like
// the scanner's: 3 revisions per item (created, flags, then moved or deleted), one folder per account, a blob per
// item; half of the purgeable items share their blob with a live item (deduplication that must survive). Blob
// files are written only for the blobs of purgeable items and those they share with, the only ones the purge
// touches; the other blob rows point at no file, which the purge never opens.
//
//   npx tsx bench/purge.ts [--revisions 1000000] [--accounts 200] [--percent 1] [--dialects sqlite,postgres]
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {gzipSync} from 'node:zlib'

import type {Catalog} from '../src/engine/catalog/catalog.js'

import {blobPath} from '../src/engine/blobstore/blob-path.js'
import {type BulkColumn, bulkInsert} from '../src/engine/catalog/bulk-rows.js'
import {openCatalog} from '../src/engine/catalog/open-catalog.js'
import {purge} from '../src/engine/purge/purge.js'
import {REVISION_COLUMNS as SCANNER_REVISION_COLUMNS} from '../src/engine/scanner/item-rows.js'
import {createTestDatabase, stopTestPostgres} from '../test/setup/postgres-server.js'
import {describeMachine} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DAY = 86_400_000
const SERVER = 'bench'
const {values} = parseArgs({
  options: {
    revisions: {type: 'string', default: '1000000'},
    accounts: {type: 'string', default: '200'},
    percent: {type: 'string', default: '1'},
    dialects: {type: 'string', default: 'sqlite,postgres'},
  },
})

interface Layout {
  items: number
  revisions: number
  purgeableItems: number
  purgeableRevisions: number
  uniquePurgeableBlobs: number
  recentlyDeletedItems: number
}

// The scanner's own column list, with explicit ids so the bench can lay out a million rows in one pass.
const REVISION_COLUMNS: BulkColumn[] = [{name: 'id', type: 'bigint'}, ...SCANNER_REVISION_COLUMNS]

function digestOf(index: number): string {
  return createHash('sha256').update(`bench blob ${index}`).digest('hex')
}

/** Every `step`-th item is purgeable: deleted 60 days ago. Every 25th (that is not) was deleted 10 days ago. */
function kindOf(index: number, step: number): 'live' | 'purgeable' | 'recent' {
  if (index % step === 0) return 'purgeable'
  return index % 25 === 1 ? 'recent' : 'live'
}

async function buildCatalog(catalog: Catalog, now: number): Promise<Layout> {
  const {db, dialect} = catalog
  const accounts = Number(values.accounts)
  const items = Math.ceil(Number(values.revisions) / 3)
  const step = Math.round(100 / Number(values.percent))
  const layout: Layout = {
    items, revisions: items * 3, purgeableItems: 0, purgeableRevisions: 0, uniquePurgeableBlobs: 0, recentlyDeletedItems: 0,
  }
  const start = now - (200 * DAY)
  await db.transaction(async trx => {
    const [domain] = await trx('domains').insert({name: 'bench.example', first_seen: start}).returning('id')
    const domainId = Number(typeof domain === 'object' ? domain.id : domain)
    await bulkInsert(trx, dialect, 'accounts', [
      {name: 'id', type: 'integer'}, {name: 'name', type: 'text'}, {name: 'domain_id', type: 'integer'}, {name: 'first_seen', type: 'bigint'},
    ], Array.from({length: accounts}, (_, a) => [a + 1, `user${a}@bench.example`, domainId, start]))
    await bulkInsert(trx, dialect, 'folders', [
      {name: 'id', type: 'bigint'}, {name: 'account_id', type: 'integer'}, {name: 'remote_id', type: 'text'}, {name: 'first_seen', type: 'bigint'},
    ], Array.from({length: accounts}, (_, a) => [a + 1, a + 1, '2', start]))
  })

  const CHUNK = 20_000
  let revisionId = 0
  for (let first = 0; first < items; first += CHUNK) {
    const itemRows: unknown[][] = []
    const revisionRows: unknown[][] = []
    const blobRows: unknown[][] = []
    for (let index = first; index < Math.min(items, first + CHUNK); index++) {
      const id = index + 1
      const kind = kindOf(index, step)
      const created = start + (index * 10)
      // Half of the purgeable items have the content of the next item (live): a blob that must stay.
      const shares = kind === 'purgeable' && (index / step) % 2 === 0
      const digest = digestOf(shares ? index + 1 : index)
      if (!shares) blobRows.push([digest, 4096, 1500, true, created, now - (100 * DAY)])
      itemRows.push([id, (index % accounts) + 1, String(id), 'message', created])
      const metadata = JSON.stringify({subject: `Quarterly figures ${index}`, from: `sender${index % 97}@example.org`})
      const deletedAt = {purgeable: now - (60 * DAY) + index, recent: now - (10 * DAY) + index}
      const last = kind === 'live' ? created + 2000 : deletedAt[kind]
      revisionRows.push(
        [++revisionId, id, created, created + 1000, 'item.created', '2', '[]', '[]', metadata, digest, 4096, `store/${id}`, false, false, null],
        [++revisionId, id, created + 1000, last, 'item.flags', '2', String.raw`["\\Seen"]`, '[]', metadata, digest, 4096, `store/${id}`, false, false, null],
        [++revisionId, id, last, null, kind === 'live' ? 'item.moved' : 'item.deleted', '2', String.raw`["\\Seen"]`, '[]', metadata, digest, 4096, `store/${id}`, false, kind !== 'live', null],
      )
      if (kind === 'purgeable') {
        layout.purgeableItems++
        layout.purgeableRevisions += 3
        if (!shares) layout.uniquePurgeableBlobs++
      }

      if (kind === 'recent') layout.recentlyDeletedItems++
    }

    await db.transaction(async trx => {
      await bulkInsert(trx, dialect, 'blobs', [
        {name: 'digest', type: 'text'},
        {name: 'size', type: 'bigint'},
        {name: 'stored_size', type: 'bigint'},
        {name: 'stored', type: 'boolean'},
        {name: 'created_at', type: 'bigint'},
        {name: 'last_referenced_at', type: 'bigint'},
      ], blobRows)
      await bulkInsert(trx, dialect, 'items', [
        {name: 'id', type: 'bigint'},
        {name: 'account_id', type: 'integer'},
        {name: 'remote_id', type: 'text'},
        {name: 'type', type: 'text'},
        {name: 'first_seen', type: 'bigint'},
      ], itemRows)
      await bulkInsert(trx, dialect, 'item_revisions', REVISION_COLUMNS, revisionRows)
    })
    process.stderr.write(`\r  ${dialect}: ${Math.min(items, first + CHUNK)} / ${items} items`)
  }

  process.stderr.write('\n')
  if (dialect === 'postgres') {
    // Explicit ids do not move the sequences; and autovacuum would have analysed tables this size by now.
    for (const table of ['accounts', 'folders', 'items', 'item_revisions']) {
      await db.raw(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`)
    }

    await db.raw('ANALYZE')
  }

  // The files the purge will remove or must keep.
  for (let index = 0; index < items; index += step) {
    const shares = (index / step) % 2 === 0
    const digest = digestOf(shares ? index + 1 : index)
    const file = blobPath(catalog.home, digest)
    mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    writeFileSync(file, gzipSync(Buffer.from(`bench content ${index} `.repeat(200))), {mode: 0o600})
  }

  return layout
}

function timed(args: string[], env: NodeJS.ProcessEnv): {seconds: number; peakRssMiB: number; stdout: string} {
  const started = performance.now()
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'bin/run.js', ...args], {
    cwd: ROOT, env: {...process.env, ...env}, encoding: 'utf8', maxBuffer: 1 << 26,
  })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`carbonio ${args.join(' ')} failed: ${result.stdout}${result.stderr}`)
  return {seconds: round(seconds, 3), peakRssMiB: round(Number(result.stderr.trim().split('\n').pop()) / 1024, 1), stdout: result.stdout}
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits))
}

function operationSeconds(view: {ended: string; started: string}): number {
  return round((Date.parse(view.ended) - Date.parse(view.started)) / 1000, 3)
}

async function engineNothingToPurge(env: NodeJS.ProcessEnv): Promise<number[]> {
  const catalog = await openCatalog({env})
  try {
    const times: number[] = []
    for (let run = 0; run < 3; run++) {
      const started = performance.now()
      const report = await purge({
        catalog, uuid: 'bench', server: SERVER, signal: new AbortController().signal, progress() {},
      }, {purgeDays: 90})
      times.push(round((performance.now() - started) / 1000, 4))
      if (report.items + report.blobs + report.accounts !== 0) throw new Error('expected nothing to purge')
    }

    return times
  } finally {
    await catalog.close()
  }
}

async function benchDialect(dialect: 'postgres' | 'sqlite'): Promise<Record<string, unknown>> {
  const work = mkdtempSync(path.join(tmpdir(), `cb-bench-purge-${dialect}-`))
  const database = dialect === 'postgres' ? await createTestDatabase() : undefined
  const env: NodeJS.ProcessEnv = {CARBONIO_BACKUP_HOME: path.join(work, 'backup'), CARBONIO_BACKUP_SERVER: SERVER}
  if (database) env.CARBONIO_BACKUP_CATALOG_URL = database.url
  try {
    const loadStarted = performance.now()
    const catalog = await openCatalog({env})
    let layout: Layout
    try {
      layout = await buildCatalog(catalog, Date.now())
    } finally {
      await catalog.close()
    }

    const loadSeconds = round((performance.now() - loadStarted) / 1000, 1)
    console.error(`${dialect}: catalog of ${layout.revisions} revisions loaded in ${loadSeconds} s`)

    const engine = await engineNothingToPurge(env)
    const baseline = timed(['backup', 'getAllOperations', '--json'], env)
    const nothingCli = timed(['backup', 'doPurge', 'purgeDays', '90', '--json'], env)
    const nothingView = JSON.parse(nothingCli.stdout)
    const percentCli = timed(['backup', 'doPurge', 'purgeDays', '30', '--json'], env)
    const percentView = JSON.parse(percentCli.stdout)
    const result = percentView.result as Record<string, number>
    if (result.items !== layout.purgeableItems || result.blobs !== layout.uniquePurgeableBlobs) {
      throw new Error(`purged ${result.items} items and ${result.blobs} blobs, expected ${layout.purgeableItems} and ${layout.uniquePurgeableBlobs}`)
    }

    const after = await engineNothingToPurge(env)
    const figures = {
      dialect,
      layout,
      loadSeconds,
      nothingToPurge: {
        engineSeconds: engine,
        operationSeconds: operationSeconds(nothingView),
        cliWallSeconds: nothingCli.seconds,
        cliPeakRssMiB: nothingCli.peakRssMiB,
      },
      purgePercent: {
        percent: Number(values.percent),
        operationSeconds: operationSeconds(percentView),
        cliWallSeconds: percentCli.seconds,
        cliPeakRssMiB: percentCli.peakRssMiB,
        itemsPerSecond: Math.round(result.items / operationSeconds(percentView)),
        result: {
          items: result.items, revisions: result.revisions, blobs: result.blobs, bytesFreed: result.bytesFreed, blobsDeferred: result.blobsDeferred,
        },
      },
      nothingToPurgeAfterwards: {engineSeconds: after},
      peers: {idleCliPeakRssMiB: baseline.peakRssMiB, idleCliWallSeconds: baseline.seconds},
    }
    console.error(`${dialect}: ${JSON.stringify(figures)}`)
    return figures
  } finally {
    await database?.drop()
    rmSync(work, {recursive: true, force: true})
  }
}

const machine = describeMachine()
const cases: Array<Record<string, unknown>> = []
try {
  for (const dialect of values.dialects.split(',')) {
    if (dialect !== 'sqlite' && dialect !== 'postgres') throw new Error(`unknown dialect ${dialect}`)
    cases.push(await benchDialect(dialect))
  }
} finally {
  await stopTestPostgres()
}

mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
const file = path.join(ROOT, 'bench', 'results', `purge-${stamp}.json`)
writeFileSync(file, JSON.stringify({
  benchmark: 'purge',
  method: 'catalog rows inserted in bulk (bulkInsert), not ingested from a redolog; blob files only for the blobs the purge touches',
  machine,
  cases,
}, null, 2) + '\n')
console.log(JSON.stringify({file: path.relative(ROOT, file), machine, cases}, null, 2))
