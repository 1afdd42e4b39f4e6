// A throwaway host oclif CLI named `carbonio`, to prove that this plugin works inside a host and not only as the
// standalone bin/run.js. The host has plugin-plugins and plugin-help as core plugins, like a real Carbonio CLI
// that accepts plugins. Its node_modules are symlinks into this project's node_modules, so building it downloads
// nothing; its data, config and cache directories (where plugin-plugins keeps installed and linked plugins) are
// inside its temporary directory, so it never touches the user's own carbonio.
import {spawn} from 'node:child_process'
import {
  mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** This project's root, found from this file's location (test/helpers/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The host's `oclif.dirname`: its data directory is `$XDG_DATA_HOME/<dirname>`. */
export const HOST_DIRNAME = 'carbonio-host-test'

const HOST_PLUGINS = ['@oclif/core', '@oclif/plugin-plugins', '@oclif/plugin-help']

export interface RunResult {
  command: string
  code: null | number
  signal: null | string
  stdout: string
  stderr: string
  ms: number
  timedOut: boolean
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface HostCli {
  /** The temporary directory holding everything: the host, its XDG directories, backup homes, tarballs. */
  readonly tmp: string
  /** Where plugin-plugins keeps the host's user plugins (its package.json and node_modules). */
  readonly dataDir: string
  /** The environment every child gets. */
  readonly env: NodeJS.ProcessEnv
  /** Runs `carbonio <args>` through the host's bin/run.js. */
  carbonio(args: string[], options?: RunOptions): Promise<RunResult>
  /** Removes the temporary directory. */
  cleanup(): void
}

/**
 * Builds the host in a new temporary directory. CARBONIO_BACKUP_HOME is a directory inside it unless a run passes
 * its own.
 */
export function createHostCli(): HostCli {
  const tmp = mkdtempSync(path.join(tmpdir(), 'carbonio-host-'))
  const hostDir = path.join(tmp, 'host')
  mkdirSync(path.join(hostDir, 'bin'), {recursive: true})
  mkdirSync(path.join(hostDir, 'node_modules', '@oclif'), {recursive: true})

  // oclif loads a core plugin only if it is also listed in dependencies; the versions are those we link.
  const dependencies: Record<string, string> = {}
  for (const name of HOST_PLUGINS) {
    const source = path.join(PROJECT_ROOT, 'node_modules', name)
    const {version} = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {version: string}
    dependencies[name] = version
    symlinkSync(source, path.join(hostDir, 'node_modules', name), 'dir')
  }

  const pjson = {
    name: HOST_DIRNAME,
    version: '1.0.0',
    private: true,
    type: 'module',
    bin: {carbonio: './bin/run.js'},
    dependencies,
    oclif: {
      bin: 'carbonio',
      dirname: HOST_DIRNAME,
      topicSeparator: ' ',
      plugins: ['@oclif/plugin-plugins', '@oclif/plugin-help'],
    },
  }
  writeFileSync(path.join(hostDir, 'package.json'), `${JSON.stringify(pjson, null, 2)}\n`)
  writeFileSync(
    path.join(hostDir, 'bin', 'run.js'),
    "#!/usr/bin/env node\nimport {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n",
    {mode: 0o755},
  )

  const xdg = path.join(tmp, 'xdg')
  const env = childEnv({
    XDG_DATA_HOME: path.join(xdg, 'data'),
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_CACHE_HOME: path.join(xdg, 'cache'),
    CARBONIO_BACKUP_HOME: path.join(tmp, 'backup-home'),
  })
  const run = path.join(hostDir, 'bin', 'run.js')

  return {
    tmp,
    dataDir: path.join(xdg, 'data', HOST_DIRNAME),
    env,
    carbonio: (args, options = {}) =>
      runChild(process.execPath, [run, ...args], {cwd: tmp, ...options, env: {...env, ...options.env}}),
    cleanup: () => rmSync(tmp, {force: true, recursive: true}),
  }
}

/**
 * The environment for children: ours, less what would leak the test run into them. `npm test` exports npm_config_*
 * and npm_package_* variables that the npm inside plugin-plugins would obey (prefix, scripts policy...); a
 * PostgreSQL catalog URL would take the plugin away from its default SQLite catalog; NODE_OPTIONS may carry tsx.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || name === 'INIT_CWD' || name === 'NODE_OPTIONS') continue
    if (name.startsWith('CARBONIO_BACKUP_') || name === 'DEBUG') continue
    env[name] = value
  }

  return {...env, NO_COLOR: '1', ...extra}
}

// Children run in their own process group, which a Ctrl-C or a `timeout` aimed at mocha does not reach: while any
// is alive, end their groups when this process exits or is interrupted, so no npm install or compiler outlives us.
const live = new Set<number>()

function endChildren(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  endChildren()
  process.kill(process.pid, signal)
}

function track(pid: number): void {
  if (live.size === 0) {
    process.on('exit', endChildren)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }

  live.add(pid)
}

function untrack(pid: number): void {
  if (!live.delete(pid) || live.size > 0) return
  process.off('exit', endChildren)
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}

/**
 * Runs a child to its end or its timeout, collecting its output. It gets its own process group so that a timeout
 * also ends what it started (npm, node-gyp, compilers).
 */
export function runChild(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const command = [file, ...args].join(' ')
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const {pid} = child
    if (pid !== undefined) track(pid)
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      if (pid !== undefined) untrack(pid)
    }

    child.on('error', error => {
      done()
      reject(error)
    })
    child.on('close', (code, signal) => {
      done()
      resolve({
        command, code, signal, stdout, stderr, ms: Date.now() - started, timedOut,
      })
    })
  })
}

/** Everything about a finished child, for an assertion message. */
export function describeRun(result: RunResult): string {
  const end = result.timedOut
    ? `timed out after ${result.ms} ms`
    : `exited ${result.code ?? `on ${result.signal}`} after ${result.ms} ms`
  return `\`${result.command}\` ${end}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`
}
