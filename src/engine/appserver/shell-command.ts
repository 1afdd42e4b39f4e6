import {spawn} from 'node:child_process'

import {UserError} from '../errors.js'

/**
 * Runs an administrator's command with /bin/sh and returns its stdout. An abort rejects with the AbortError; any
 * other failure is one UserError line, `what` followed by the exit status (or the timeout) and the first line the
 * command printed on stderr.
 *
 * The command runs in a process group of its own, and a timeout or an abort kills the whole group: killing the shell
 * alone would leave what it started running (`su - zextras -c 'zmprov -l gaa'` stuck on its LDAP: a JVM), and the
 * daemon, which runs the accounts command again every minute, would pile up one such process per try for days.
 */
export function runShellCommand(argv: string[], options: {maxBuffer: number; signal?: AbortSignal; timeoutMs: number; what: string}): Promise<string> {
  const {maxBuffer, signal, timeoutMs, what} = options
  return new Promise<string>((resolve, reject) => {
    let timedOut = false
    let overflow = false
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    const child = spawn('/bin/sh', argv, {detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBuffer) {
        overflow = true
        killGroup()
        return
      }

      into.push(chunk)
    }

    child.stdout.on('data', collect(out))
    child.stderr.on('data', collect(err))
    const onAbort = () => killGroup()
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    if (signal?.aborted) killGroup()
    else signal?.addEventListener('abort', onAbort, {once: true})
    child.on('error', error => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      reject(new UserError(`${what}: ${error.message}`))
    })
    child.on('close', (code, killedBy) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (signal?.aborted) {
        reject(Object.assign(new Error('The operation was aborted', {cause: signal.reason}), {name: 'AbortError'}))
        return
      }

      if (code === 0 && !overflow) {
        resolve(Buffer.concat(out).toString('utf8'))
        return
      }

      const why = Buffer.concat(err).toString('utf8').trim().split('\n')[0] || (overflow ? `printed more than ${maxBuffer} bytes` : '')
      const status = timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${code ?? killedBy ?? '?'}`
      reject(new UserError(`${what} (${status}): ${why}`))
    })
  })
}
