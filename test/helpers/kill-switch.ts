// kill -9 of a CLI child at a chosen moment, for the crash tests: armed by an anchor (a line of its output, a state
// the test polls for), it fires a set delay later, once.
import type {ChildProcess} from 'node:child_process'

import {sleep} from '../../src/engine/sleep.js'
import {outputOf} from './run-cli.js'

export interface KillSwitch {
  /** Starts the delay (the first call only). */
  arm(): void
  /** Cancels a kill that has not happened (the child ended first). */
  disarm(): void
  /** When the SIGKILL was sent; 0 if it was not. */
  readonly killedAt: number
}

export function killSwitch(child: ChildProcess, delayMs: number): KillSwitch {
  let timer: NodeJS.Timeout | undefined
  let killedAt = 0
  return {
    arm() {
      timer ??= setTimeout(() => {
        killedAt = Date.now()
        child.kill('SIGKILL')
      }, delayMs)
    },
    disarm: () => clearTimeout(timer),
    get killedAt() {
      return killedAt
    },
  }
}

/** Arms the switch once the child has printed its operation's UUID (the operation exists). */
export function armOnUuid(child: ChildProcess, kill: KillSwitch): void {
  child.stdout!.on('data', () => /^[0-9a-f-]{36}\n/.test(outputOf(child).stdout) && kill.arm())
}

/** Asks `reached` every 10 ms while the child runs, and arms the switch as soon as it answers true. */
export async function armWhen(child: ChildProcess, exited: Promise<unknown>, reached: () => Promise<boolean>, kill: KillSwitch): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    if (await reached()) {
      kill.arm()
      return
    }

    await Promise.race([exited, sleep(10)])
  }
}
