// Keeps a test server from outliving the test process. When mocha is killed (a CI timeout's SIGTERM, SIGKILL,
// Ctrl-C), neither the root afterAll nor an 'exit' listener runs, and the server would be left behind with its port
// and memory: a detached shell outlives this process, waits for it to end, stops the server and removes its
// temporary directory. On an ordinary exit (mocha ending on an uncaught error skips the root afterAll), the server is
// stopped at once rather than when the watchdog looks.
import {spawn} from 'node:child_process'
import {rmSync} from 'node:fs'

export interface Watchdog {
  /** Stops the server now (stopNow), removes the directory and ends the watchdog: after a failed start. */
  stopSync(): void
  /** An orderly stop: no longer stopped on exit, then `stop`, then the directory removed and the watchdog ended. */
  stop(stop: () => Promise<void>): Promise<void>
}

export function watchOver(options: {
  /** The watchdog's process name. */
  name: string
  /** The server's temporary directory, removed once it is stopped. */
  dir: string
  /** Shell text stopping the server once this process is gone; its arguments start at $3 ($1 is our pid, $2 dir). */
  stopScript: string
  args: string[]
  /** Stops the server synchronously, from this process. */
  stopNow(): void
}): Watchdog {
  const script = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
${options.stopScript.trim()}
rm -rf "$2"
`
  const watchdog = spawn('sh', ['-c', script, options.name, String(process.pid), options.dir, ...options.args], {
    detached: true,
    stdio: 'ignore',
  })
  watchdog.unref()
  const release = () => {
    rmSync(options.dir, {force: true, recursive: true})
    watchdog.kill()
  }

  const stopSync = () => {
    process.removeListener('exit', stopSync)
    options.stopNow()
    release()
  }

  process.once('exit', stopSync)
  return {
    stopSync,
    async stop(stop) {
      process.removeListener('exit', stopSync)
      await stop()
      release()
    },
  }
}
