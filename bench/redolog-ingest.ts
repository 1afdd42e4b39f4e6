// Redolog ingest benchmark (issue 3): generate a realistic redolog, let the Realtime Scanner catch up with it
// through the real CLI (`backup daemon once true`), and report transactions/s, MB/s of content, dedup ratio and
// peak RSS, next to peers run in the same invocation on the same data: a bare JSON.parse of every line (the
// ceiling for any line-based ingest) and a raw copy of the content store (`cp -r`, the ceiling for blob I/O).
//
//   npx tsx bench/redolog-ingest.ts [--transactions 1000000] [--blob-transactions 100000] [--accounts 1000]
import {execFileSync, spawnSync} from 'node:child_process'
import {
  createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {describeMachine} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values} = parseArgs({
  options: {
    transactions: {type: 'string', default: '1000000'},
    'blob-transactions': {type: 'string', default: '100000'},
    accounts: {type: 'string', default: '1000'},
  },
})

interface CaseResult {
  name: string
  transactions: number
  seconds: number
  transactionsPerSecond: number
  peakRssMiB: number
  contentMiB?: number
  contentMiBPerSecond?: number
  dedupRatio?: number
  storedMiB?: number
  peers: Record<string, number>
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): {seconds: number; peakRssMiB: number; stdout: string} {
  const started = performance.now()
  // GNU time reports the peak resident set size of the child in KiB on stderr's last line.
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
    cwd: ROOT, env: {...process.env, ...env}, encoding: 'utf8', maxBuffer: 1 << 26,
  })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
  const peakKiB = Number(result.stderr.trim().split('\n').pop())
  return {seconds, peakRssMiB: Math.round(peakKiB / 1024), stdout: result.stdout}
}

async function parseOnlyRate(dir: string): Promise<number> {
  const started = performance.now()
  let lines = 0
  for (const name of readdirSync(dir).sort()) {
    const reader = createInterface({input: createReadStream(path.join(dir, name)), crlfDelay: Infinity})
    for await (const line of reader) {
      JSON.parse(line)
      lines++
    }
  }

  return lines / ((performance.now() - started) / 1000)
}

function duSizeMiB(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], {encoding: 'utf8'}).split('\t')[0]) / 1024
}

async function ingestCase(name: string, transactions: number, metadataOnly: boolean): Promise<CaseResult> {
  const work = mkdtempSync(path.join(tmpdir(), `cb-bench-${name}-`))
  try {
    const generatorArgs = ['dist/tools/generate-redolog-cli.js',
      '--out',
      path.join(work, 'appserver'),
      '--accounts',
      String(values.accounts),
      '--transactions',
      String(transactions),
      '--seed',
      '7',
      '--start',
      '2026-01-05T08:00:00Z',
      '--spacing-ms',
      '50']
    if (metadataOnly) generatorArgs.push('--metadata-only')
    const generated = run(process.execPath, generatorArgs)
    const summary = JSON.parse(generated.stdout)
    console.error(`${name}: generated ${summary.transactions} transactions in ${generated.seconds.toFixed(1)} s`)
    const env = {CARBONIO_BACKUP_HOME: path.join(work, 'backup'), CARBONIO_BACKUP_SERVER: 'bench'}
    run(process.execPath, ['bin/run.js', 'config', 'set', 'server', 'bench', 'backupRedologPath', path.join(work, 'appserver', 'redolog')], env)
    // Metadata-only lines still name content (the format requires it for messages); blobless mode records the
    // reference without reading it, which is exactly the metadata path being measured.
    if (metadataOnly) run(process.execPath, ['bin/run.js', 'config', 'set', 'server', 'bench', 'backupBloblessMode', 'true'], env)
    const ingest = run(process.execPath, ['bin/run.js', 'backup', 'daemon', 'once', 'true', '--json'], {...env, ...DAEMON_ENVIRONMENT})
    const totals = JSON.parse(ingest.stdout)
    const peers: Record<string, number> = {}
    const parseRate = await parseOnlyRate(path.join(work, 'appserver', 'redolog'))
    peers.jsonParseLinesPerSecond = Math.round(parseRate)
    const result: CaseResult = {
      name,
      transactions: totals.transactions,
      seconds: Number(ingest.seconds.toFixed(2)),
      transactionsPerSecond: Math.round(totals.transactions / ingest.seconds),
      peakRssMiB: ingest.peakRssMiB,
      peers,
    }
    peers.ratioToJsonParse = Number((result.transactionsPerSecond / parseRate).toFixed(3))
    if (!metadataOnly) {
      const contentMiB = summary.contentBytes / (2 ** 20)
      result.contentMiB = Number(contentMiB.toFixed(1))
      result.contentMiBPerSecond = Number((contentMiB / ingest.seconds).toFixed(1))
      result.dedupRatio = Number((summary.contentBytes / summary.distinctBytes).toFixed(2))
      result.storedMiB = Number(duSizeMiB(path.join(work, 'backup', 'items')).toFixed(1))
      const copyStarted = performance.now()
      execFileSync('cp', ['-r', path.join(work, 'appserver', 'store'), path.join(work, 'store-copy')])
      execFileSync('sync')
      const copySeconds = (performance.now() - copyStarted) / 1000
      peers.rawCopyMiBPerSecond = Number((duSizeMiB(path.join(work, 'appserver', 'store')) / copySeconds).toFixed(1))
      peers.ratioToRawCopy = Number((result.contentMiBPerSecond / peers.rawCopyMiBPerSecond).toFixed(3))
    }

    console.error(`${name}: ${JSON.stringify(result)}`)
    return result
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

// The ingest runs with the process settings of the shipped systemd unit (Node's heap bound, malloc arenas), as the
// daemon does in production; the unit's backup path is not one of them.
const DAEMON_ENVIRONMENT = Object.fromEntries([...readFileSync(path.join(ROOT, 'contrib', 'carbonio-backup.service'), 'utf8')
// systemd takes a value with spaces quoted whole: Environment="NODE_OPTIONS=a b".
.matchAll(/^Environment="?(NODE_OPTIONS|MALLOC_ARENA_MAX)=(.*?)"?$/gm)].map(([, name, value]) => [name, value]))

const machine = describeMachine()
const cases = [
  await ingestCase('metadata-only', Number(values.transactions), true),
  await ingestCase('with-blobs', Number(values['blob-transactions']), false),
]
mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
const file = path.join(ROOT, 'bench', 'results', `redolog-ingest-${stamp}.json`)
writeFileSync(file, JSON.stringify({
  benchmark: 'redolog-ingest', machine, accounts: Number(values.accounts), daemonEnvironment: DAEMON_ENVIRONMENT, cases,
}, null, 2) + '\n')
console.log(JSON.stringify({file: path.relative(ROOT, file), machine, cases}, null, 2))
