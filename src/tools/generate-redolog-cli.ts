#!/usr/bin/env node
/**
 * Writes a sample redolog and its content store for trying the scanner, for tests and for the benchmark:
 *
 *   node dist/tools/generate-redolog-cli.js --out /tmp/sample --accounts 10 --transactions 10000 --days-ago 7
 *
 * gives /tmp/sample/redolog/redo-*.log and /tmp/sample/store/<2 hex>/<sha256>, and prints a JSON summary on stdout.
 * A plain node entry (no oclif): it is a development tool, not a carbonio command.
 */
import path from 'node:path'
import {parseArgs} from 'node:util'

import {generateRedolog, type TimeFormat} from './redolog-generator.js'

const DAY_MS = 86_400_000
const USAGE = `usage: node dist/tools/generate-redolog-cli.js --out <dir> [--accounts N] [--transactions N] [--seed S]
       [--metadata-only] [--days-ago D | --start <ISO 8601> [--spacing-ms MS]] [--rotate-every LINES]
       [--time-format iso|iso-offset|ms] [--blob-min BYTES] [--blob-max BYTES]
Writes <dir>/redolog/ (redo-<first seq>.log files) and <dir>/store/ (content files), prints a JSON summary.
Defaults: 10 accounts, 10000 transactions, seed 1, times spread over the last 7 days up to now (use --start for
byte-identical output across runs), 100000 lines per file. --accounts is the number created first: as on a real
server, a few more accounts are created (and some renamed or deleted) along the way.`

const OPTIONS = {
  accounts: {type: 'string'},
  'blob-max': {type: 'string'},
  'blob-min': {type: 'string'},
  'days-ago': {type: 'string'},
  help: {short: 'h', type: 'boolean'},
  'metadata-only': {type: 'boolean'},
  out: {type: 'string'},
  'rotate-every': {type: 'string'},
  seed: {type: 'string'},
  'spacing-ms': {type: 'string'},
  start: {type: 'string'},
  'time-format': {type: 'string'},
  transactions: {type: 'string'},
} as const

class UsageProblem extends Error {}

function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < min) throw new UsageProblem(`--${name} must be an integer >= ${min}, not "${value}"`)
  return number
}

async function main(argv: string[]): Promise<void> {
  let values: ReturnType<typeof parseArgs<{args: string[]; options: typeof OPTIONS}>>['values']
  try {
    ({values} = parseArgs({
      args: argv, options: OPTIONS, allowPositionals: false, strict: true,
    }))
  } catch (error) {
    throw new UsageProblem((error as Error).message)
  }

  if (values.help) {
    console.log(USAGE)
    return
  }

  if (!values.out) throw new UsageProblem('--out <dir> is required')
  const transactions = integer('transactions', values.transactions, 10_000)
  const timeFormat = (values['time-format'] ?? 'iso') as TimeFormat
  if (!['iso', 'iso-offset', 'ms'].includes(timeFormat)) throw new UsageProblem(`--time-format must be iso, iso-offset or ms, not "${timeFormat}"`)
  let startTime: number
  let endTime: number | undefined
  if (values.start === undefined) {
    const daysAgo = Number(values['days-ago'] ?? 7)
    if (!Number.isFinite(daysAgo) || daysAgo <= 0) throw new UsageProblem(`--days-ago must be a positive number, not "${values['days-ago']}"`)
    endTime = Date.now()
    startTime = endTime - Math.round(daysAgo * DAY_MS)
  } else {
    if (values['days-ago'] !== undefined) throw new UsageProblem('--start and --days-ago exclude each other')
    startTime = Date.parse(values.start)
    if (Number.isNaN(startTime)) throw new UsageProblem(`--start must be an ISO 8601 time, not "${values.start}"`)
  }

  const blobMin = integer('blob-min', values['blob-min'], 2048, 1)
  const blobMax = integer('blob-max', values['blob-max'], Math.max(51_200, blobMin), blobMin)
  const out = path.resolve(values.out)
  const began = performance.now()
  const summary = await generateRedolog({
    accounts: integer('accounts', values.accounts, 10, 1),
    transactions,
    seed: integer('seed', values.seed, 1),
    metadataOnly: values['metadata-only'] ?? false,
    startTime,
    endTime,
    spacingMs: values['spacing-ms'] === undefined ? undefined : integer('spacing-ms', values['spacing-ms'], 1000),
    rotateEvery: integer('rotate-every', values['rotate-every'], 100_000, 1),
    blobSize: {min: blobMin, max: blobMax},
    timeFormat,
    redologDir: path.join(out, 'redolog'),
    storeDir: path.join(out, 'store'),
  })
  const elapsedMs = Math.round(performance.now() - began)
  console.log(JSON.stringify({
    redologDir: path.join(out, 'redolog'), storeDir: path.join(out, 'store'), ...summary, elapsedMs,
  }, null, 2))
}

try {
  await main(process.argv.slice(2))
} catch (error) {
  const usage = error instanceof UsageProblem
  console.error(`generate-redolog: ${(error as Error).message}${usage ? ' (--help for usage)' : ''}`)
  process.exitCode = usage ? 2 : 1
}
