// The plugin as the benchmark runs it: the real CLI (bin/run.js, the compiled dist/) in its own process, with its
// own backup home, configured for the test Dovecot the way the integration tests do it.
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {TestDovecot} from '../../test/setup/dovecot-server.js'

import {runTool} from './peers.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const RUN_JS = path.join(ROOT, 'bin', 'run.js')

export class CarbonioCli {
  readonly env: NodeJS.ProcessEnv

  constructor(readonly home: string) {
    mkdirSync(home, {recursive: true})
    this.env = {
      CARBONIO_BACKUP_HOME: path.join(home, 'backup'), CARBONIO_BACKUP_SERVER: 'bench', NO_COLOR: '1', FORCE_COLOR: '0',
    }
  }

  get catalogFile(): string {
    return path.join(this.home, 'backup', 'catalog.sqlite')
  }

  /** Points the plugin at the test Dovecot with its master user; the accounts command lists one domain. */
  async configure(dovecot: TestDovecot, domain: string, extra: Record<string, string> = {}): Promise<void> {
    const passwordFile = path.join(this.home, 'imap-password')
    writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
    const values: Record<string, string> = {
      backupAppServerUrl: dovecot.url,
      backupAppServerUser: dovecot.masterUser,
      backupAppServerPasswordFile: passwordFile,
      backupAccountsCommand: dovecot.directoryCommand(domain),
      ...extra,
    }
    for (const [name, value] of Object.entries(values)) await this.run(['config', 'set', 'global', name, value])
  }

  /** Runs a command with --json: its wall-clock seconds (process start included) and its parsed output. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the --json view of whichever command ran
  async json(args: string[]): Promise<{seconds: number; view: any}> {
    const {seconds, stdout} = await this.run([...args, '--json'])
    return {seconds, view: JSON.parse(stdout)}
  }

  run(args: string[]): Promise<{seconds: number; stderr: string; stdout: string}> {
    return runTool(process.execPath, [RUN_JS, ...args], this.env)
  }

  /**
   * Runs a command with --json under /usr/bin/time, node flags (--cpu-prof ...) first: the operation's own seconds
   * (started to ended) and the process's CPU seconds and peak RSS, which on a machine shared with other work compare
   * runs better than wall-clock time does.
   */
  profiled(args: string[], nodeArgs: string[] = []): Promise<{cpu: string; seconds: number; view: {result: Record<string, unknown>}}> {
    const timeFile = path.join(this.home, 'time.txt')
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', 'cpu %U+%S s, rss %M KiB', '-o', timeFile, process.execPath, ...nodeArgs, RUN_JS, ...args, '--json'], {
        env: {...process.env, ...this.env}, stdio: ['ignore', 'pipe', 'inherit'],
      })
      let stdout = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
      })
      child.once('exit', code => {
        if (code !== 0) {
          reject(new Error(`exit ${code}: ${stdout.slice(-500)}`))
          return
        }

        const view = JSON.parse(stdout)
        resolve({cpu: readFileSync(timeFile, 'utf8').trim(), seconds: (Date.parse(view.ended) - Date.parse(view.started)) / 1000, view})
      })
    })
  }

  start(args: string[]): ChildProcess {
    return spawn(process.execPath, [RUN_JS, ...args], {env: {...process.env, ...this.env}, stdio: ['ignore', 'ignore', 'pipe']})
  }
}
