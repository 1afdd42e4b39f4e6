// Coherency check benchmark (issue 5): build a backup of N distinct blobs from a generated redolog (realistic mail
// and documents, every content in a store file), then time `carbonio backup doCoherencyCheck --json` (the real
// CLI: every revision, every blob row, every file under items/, each stored blob gunzipped and hashed) against
// `sha256sum` over the same contents as raw files in the AppServer store, in the same run, on the same machine.
// Both rates are MiB/s of raw (uncompressed) content, so a compressed store gets no credit for reading fewer bytes.
// Runs two sizes (N/4 and N) so that the check's peak RSS shows whether memory grows with the store.
//
//   npx tsx bench/coherency-check.ts [--blobs 20000] [--accounts 200] [--rounds 3] [--blob-min 4096] [--blob-max 110000]
//
// The page cache is warm for every contender (the store was just written, and each runs several rounds): this
// measures the hashing and inflating pipeline, not the disk.
import {execFileSync, spawnSync} from 'node:child_process'
import {
  existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {RedologFeed} from '../src/engine/appserver/redolog/redolog-feed.js'
import {openCatalog} from '../src/engine/catalog/open-catalog.js'
import {runScanner} from '../src/engine/scanner/realtime-scanner.js'
import {generateRedolog} from '../src/tools/redolog-generator.js'
import {describeMachine} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values} = parseArgs({
  options: {
    blobs: {type: 'string', default: '20000'},
    accounts: {type: 'string', default: '200'},
    rounds: {type: 'string', default: '3'},
    'blob-min': {type: 'string', default: '4096'},
    'blob-max': {type: 'string', default: '110000'},
  },
})
const MiB = 2 ** 20
/** Measured on the generator's default mix: about 0.38 new distinct contents per transaction. */
const DISTINCT_PER_TRANSACTION = 0.377

interface Timed {
  seconds: number
  peakRssMiB: number
  stdout: string
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now()
    // GNU time reports the peak resident set size of the child in KiB on stderr's last line.
    const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
      cwd: ROOT, env: {...process.env, ...env}, encoding: 'utf8', maxBuffer: 1 << 28,
    })
    const seconds = (performance.now() - started) / 1000
    if (result.status === 0) return {seconds, peakRssMiB: Math.round(Number(result.stderr.trim().split('\n').pop()) / 1024), stdout: result.stdout}
    // A build running in this tree (rm -rf dist, tsc) makes the CLI vanish for a while: wait for it, then retry.
    if (!existsSync(path.join(ROOT, 'dist', 'commands', 'index.js')) && attempt < 20) {
      spawnSync('sleep', ['5'])
      continue
    }

    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`)
  }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function benchCase(blobs: number) {
  const work = mkdtempSync(path.join(tmpdir(), 'cb-bench-coherency-'))
  try {
    const appserver = path.join(work, 'appserver')
    const home = path.join(work, 'backup')
    let started = performance.now()
    // About 100 blobs per account at least, and room for each account's creation and folders before its mail.
    const accounts = Math.max(5, Math.min(Number(values.accounts), Math.floor(blobs / 100)))
    const summary = await generateRedolog({
      accounts,
      transactions: Math.ceil(blobs / DISTINCT_PER_TRANSACTION) + (accounts * 15),
      seed: 11,
      // Every content a file, so that sha256sum and the check see exactly the same contents.
      inlineMaxBytes: 0,
      blobSize: {min: Number(values['blob-min']), max: Number(values['blob-max'])},
      startTime: '2026-01-05T08:00:00Z',
      spacingMs: 50,
      redologDir: path.join(appserver, 'redolog'),
      storeDir: path.join(appserver, 'store'),
    })
    const generatedIn = ((performance.now() - started) / 1000).toFixed(1)
    console.error(`generated ${summary.transactions} transactions, ${summary.storeFiles} content files, ${(summary.storeBytes / MiB).toFixed(0)} MiB in ${generatedIn} s`)
    started = performance.now()
    const catalog = await openCatalog({env: {CARBONIO_BACKUP_HOME: home}})
    try {
      await runScanner({
        catalog, server: 'bench', feed: new RedologFeed(path.join(appserver, 'redolog'), {follow: false}), signal: new AbortController().signal,
      })
    } finally {
      await catalog.close()
    }

    const storedMiB = Number(execFileSync('du', ['-sk', path.join(home, 'items')], {encoding: 'utf8'}).split('\t')[0]) / 1024
    console.error(`ingested into ${home} (${storedMiB.toFixed(0)} MiB of gzip blobs) in ${((performance.now() - started) / 1000).toFixed(1)} s`)

    const store = path.join(appserver, 'store')
    const cores = availableParallelism()
    const contenders: Record<string, () => Timed> = {
      sha256sum: () => timed('sh', ['-c', `find "${store}" -type f -print0 | xargs -0 sha256sum > /dev/null`]),
      [`sha256sum-parallel-${cores}`]: () => timed('sh', ['-c', `find "${store}" -type f -print0 | xargs -0 -n 256 -P ${cores} sha256sum > /dev/null`]),
      doCoherencyCheck: () => timed(process.execPath, ['bin/run.js', 'backup', 'doCoherencyCheck', '--json'], {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'bench'}),
    }
    const runs: Record<string, Timed[]> = {}
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const [name, run] of Object.entries(contenders)) (runs[name] ??= []).push(run())
    }

    const report = JSON.parse(runs.doCoherencyCheck.at(-1)!.stdout).result
    if (!report.coherent) throw new Error(`the benchmark store is not coherent: ${JSON.stringify(report.findings)}`)
    if (report.checked.contentBytes !== summary.storeBytes || report.checked.blobsVerified !== summary.storeFiles) {
      throw new Error(`the check read ${report.checked.blobsVerified} blobs / ${report.checked.contentBytes} bytes, the store holds ${summary.storeFiles} / ${summary.storeBytes}`)
    }

    // The CLI's own start and exit (node, oclif, opening the catalog: about a second here, whatever the command)
    // are in the wall-clock time; the operation's started..ended is the check alone.
    runs['doCoherencyCheck-operation'] = runs.doCoherencyCheck.map(r => {
      const view = JSON.parse(r.stdout)
      return {...r, seconds: (Date.parse(view.ended) - Date.parse(view.started)) / 1000}
    })
    const contentMiB = summary.storeBytes / MiB
    const rate = (name: string) => Number((contentMiB / median(runs[name].map(r => r.seconds))).toFixed(1))
    const ours = rate('doCoherencyCheck-operation')
    const result = {
      blobs: summary.storeFiles,
      contentMiB: Number(contentMiB.toFixed(1)),
      storedMiB: Number(storedMiB.toFixed(1)),
      revisions: report.checked.itemRevisions,
      accounts: report.checked.accounts,
      secondsPerRound: Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, list.map(r => Number(r.seconds.toFixed(2)))])),
      contentMiBPerSecond: Object.fromEntries(Object.keys(runs).map(name => [name, rate(name)])),
      ratioToSha256sum: Number((ours / rate('sha256sum')).toFixed(3)),
      ratioToParallelSha256sum: Number((ours / rate(`sha256sum-parallel-${cores}`)).toFixed(3)),
      wallClockRatioToSha256sum: Number((rate('doCoherencyCheck') / rate('sha256sum')).toFixed(3)),
      checkPeakRssMiB: Math.max(...runs.doCoherencyCheck.map(r => r.peakRssMiB)),
    }
    console.error(JSON.stringify(result))
    return result
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

const machine = describeMachine()
const total = Number(values.blobs)
const cases = [await benchCase(Math.ceil(total / 4)), await benchCase(total)]
mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
const file = path.join(ROOT, 'bench', 'results', `coherency-check-${stamp}.json`)
writeFileSync(file, JSON.stringify({benchmark: 'coherency-check', machine, cases}, null, 2) + '\n')
console.log(JSON.stringify({file: path.relative(ROOT, file), machine, cases}, null, 2))
