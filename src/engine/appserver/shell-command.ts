import {execFile} from 'node:child_process'

import {UserError} from '../errors.js'

/**
 * Runs an administrator's command with /bin/sh and returns its stdout. An abort rejects with the AbortError; any
 * other failure is one UserError line, `what` followed by the exit status (or the timeout) and the first line the
 * command printed on stderr.
 */
export function runShellCommand(argv: string[], options: {maxBuffer: number; signal?: AbortSignal; timeoutMs: number; what: string}): Promise<string> {
  const {maxBuffer, signal, timeoutMs, what} = options
  return new Promise<string>((resolve, reject) => {
    execFile('/bin/sh', argv, {maxBuffer, signal, timeout: timeoutMs}, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout)
        return
      }

      if (error.name === 'AbortError') {
        reject(error)
        return
      }

      const why = String(stderr).trim().split('\n')[0] || error.message.split('\n')[0]
      const status = error.killed ? `timed out after ${timeoutMs / 1000} s` : `exit ${error.code ?? error.signal ?? '?'}`
      reject(new UserError(`${what} (${status}): ${why}`))
    })
  })
}
