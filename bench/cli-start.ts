// CLI start-up benchmark: what a command that only reads the catalog costs an administrator's script, run after run
// (`carbonio backup getAllOperations --json`, `getServices`), next to its peers in the same invocation: a bare
// `node -e ''` (Node's own start, the floor for any JavaScript CLI) and `--version` (oclif and the plugin's manifest,
// no command loaded). The runs alternate, so the machine's load falls on all three alike.
//
//   npx tsx bench/cli-start.ts [--runs 15]
import {spawnSync} from 'node:child_process'
import {
  mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {describeMachine, loadAverage} from './machine.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values} = parseArgs({options: {runs: {type: 'string', default: '15'}}})
const runs = Number(values.runs)
const home = mkdtempSync(path.join(tmpdir(), 'cb-bench-cli-'))
const env = {...process.env, CARBONIO_BACKUP_HOME: home}
const RUN_JS = path.join(ROOT, 'bin', 'run.js')
const commands: Record<string, string[]> = {
  nodeBare: ['-e', ''],
  version: [RUN_JS, '--version'],
  getAllOperations: [RUN_JS, 'backup', 'getAllOperations', '--json'],
  getServices: [RUN_JS, 'backup', 'getServices', '--json'],
}

function timed(args: string[]): number {
  const started = performance.now()
  const result = spawnSync(process.execPath, args, {cwd: ROOT, env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return performance.now() - started
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const machine = describeMachine()
const loadBefore = loadAverage()
try {
  // The first run creates the catalog: not timed.
  timed(commands.getAllOperations)
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map(name => [name, []]))
  for (let run = 0; run < runs; run++) {
    for (const [name, args] of Object.entries(commands)) times[name].push(timed(args))
  }

  const medians = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, Math.round(median(list))]))
  const result = {
    benchmark: 'cli-start',
    machine,
    runs,
    medianMs: medians,
    minMs: Object.fromEntries(Object.entries(times).map(([name, list]) => [name, Math.round(Math.min(...list))])),
    // The plugin's own share of a catalog command: what it adds to Node's start.
    getAllOperationsOverNodeBare: Number((medians.getAllOperations / medians.nodeBare).toFixed(2)),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
  }
  mkdirSync(path.join(ROOT, 'bench', 'results'), {recursive: true})
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-')
  const file = path.join(ROOT, 'bench', 'results', `cli-start-${stamp}.json`)
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  console.log(JSON.stringify({file: path.relative(ROOT, file), ...result}, null, 2))
} finally {
  rmSync(home, {recursive: true, force: true})
}
