import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const RUN_JS = path.join(PROJECT_ROOT, 'bin', 'run.js')

export interface CliResult {
  code: null | number
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the standalone `carbonio` (bin/run.js, the compiled dist/) to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
  return waitFor(startCli(args, env), timeoutMs)
}

/** Starts `carbonio` without waiting: for operations that must run while other shells act on them. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawnNode([RUN_JS, ...args], env)
}

/** Runs a TypeScript fixture under tsx, as a separate process like a second shell. */
export function startFixture(file: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawnNode(['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'fixtures', file), ...args], env)
}

/** Starts `carbonio` as another user (root only): for what root's reading of any file would hide. */
export function startCliAs(identity: {gid: number; uid: number}, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawnNode([RUN_JS, ...args], env, identity)
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv, identity?: {gid: number; uid: number}): ChildProcess {
  const child = spawn(process.execPath, args, {
    ...identity,
    cwd: PROJECT_ROOT,
    env: {
      ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = {stdout: '', stderr: ''}
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out.stdout += chunk
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    out.stderr += chunk
  })
  outputs.set(child, out)
  return child
}

const outputs = new WeakMap<ChildProcess, {stdout: string; stderr: string}>()

/** What a started process printed so far. */
export function outputOf(child: ChildProcess): {stdout: string; stderr: string} {
  return outputs.get(child) ?? {stdout: '', stderr: ''}
}

export function waitFor(child: ChildProcess, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      const out = outputOf(child)
      reject(new Error(`process timed out after ${timeoutMs} ms\nstdout: ${out.stdout}\nstderr: ${out.stderr}`))
    }, timeoutMs)
    const finish = (code: null | number, signal: NodeJS.Signals | null) => {
      clearTimeout(timer)
      resolve({code, signal, ...outputOf(child)})
    }

    if (child.exitCode !== null || child.signalCode !== null) finish(child.exitCode, child.signalCode)
    else child.once('close', finish)
  })
}

/** Polls until `check` returns a value (not undefined), or fails after the timeout with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => {
      setTimeout(resolve, 100)
    })
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
