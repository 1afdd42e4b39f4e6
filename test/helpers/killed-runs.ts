// Runs of a CLI operation killed (kill -9) at seeded moments, for the crash tests of the restores: each run is started,
// killed after its UUID or once the destination has grown, and what it left is for the next run to complete.
import type {ImapFlow} from 'imapflow'

import assert from 'node:assert/strict'

import {armOnUuid, armWhen, killSwitch} from './kill-switch.js'
import {
  runCli, startCli, UUID, waitFor,
} from './run-cli.js'

export interface Kill {
  /**
   * 'uuid': after the operation's UUID is printed (it reads the history, creates folders, appends); 'appended': once
   * this run has added more than `after` messages to the account written (a MULTIAPPEND just committed, the next one
   * may be on its way).
   */
  anchor: 'appended' | 'uuid'
  after?: number
  delay: [number, number]
}

export interface KilledRuns {
  /** Runs the operation once with the kill planned (it may complete first). */
  run(kill: Kill): Promise<void>
  /** Every killed operation is listed Interrupted (exit code 4), unless the kill came after it had recorded its end. */
  assertInterrupted(type: string): Promise<void>
  readonly kills: number
}

/**
 * The kills of a restore crash test, seeded: early (the history read, the folders made, the first MULTIAPPEND in
 * flight); then a run killed after a few messages of its own (`appendedAfter`), or after its first one; then at random.
 */
export function restoreKills(int: (min: number, max: number) => number, appendedAfter: [number, number]): Kill[] {
  return [
    {anchor: 'uuid', delay: [20, 200]},
    {anchor: 'appended', after: int(...appendedAfter), delay: [0, 30]},
    {anchor: 'appended', after: 0, delay: [0, 10]},
    {anchor: 'uuid', delay: [0, 300]},
  ]
}

/** A log line on stderr with the seconds since the test began, for what a crash test did and when. */
export function elapsedLog(): (line: string) => void {
  const started = Date.now()
  return line => process.stderr.write(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`)
}

/** How many messages the account holds, all folders together. */
export async function messageCount(client: ImapFlow): Promise<number> {
  // Dovecot answers STATUS of the mailbox a session has selected from that session's view, which misses what other
  // sessions appended since.
  if (typeof client.mailbox === 'object') await client.mailboxClose()
  let messages = 0
  for (const box of await client.list({statusQuery: {messages: true}})) messages += box.status?.messages ?? 0
  return messages
}

export function killedRuns({args, env, int, log, written}: {
  args: string[]
  env: NodeJS.ProcessEnv
  /** The test's seeded random integer in [min, max]. */
  int: (min: number, max: number) => number
  log: (line: string) => void
  /** A client of the account the operation writes to. */
  written: ImapFlow
}): KilledRuns {
  const killed: Array<{at: number; uuid: string}> = []
  let kills = 0
  return {
    async run({after, anchor, delay: range}) {
      const delay = int(...range)
      const before = await messageCount(written)
      const child = startCli(args, env)
      const exited = waitFor(child, 120_000)
      const kill = killSwitch(child, delay)
      if (anchor === 'uuid') armOnUuid(child, kill)
      else await armWhen(child, exited, async () => await messageCount(written) > before + after!, kill)
      const result = await exited
      kill.disarm()
      const what = `${delay} ms after ${anchor === 'uuid' ? 'its UUID' : `it had added ${after}`}`
      const there = await messageCount(written)
      if (result.signal !== 'SIGKILL') {
        assert.equal(result.code, 0, result.stderr)
        log(`completed before its kill ${what}: ${result.stdout.trim().split('\n').at(-1)}`)
        return
      }

      kills++
      const uuid = result.stdout.split('\n')[0]
      if (UUID.test(uuid)) killed.push({at: kill.killedAt, uuid})
      log(`killed ${what}: ${there - before} added, ${there} in the account`)
    },
    async assertInterrupted(type) {
      const listed = await runCli(['backup', 'getAllOperations', 'all', 'true', '--json'], env)
      assert.equal(listed.code, 0, listed.stderr)
      const {operations}: {operations: Array<{ended: null | string; exitCode: null | number; outcome: string; type: string; uuid: string}>} = JSON.parse(listed.stdout)
      const ofType = operations.filter(op => op.type === type)
      assert.deepEqual(ofType.filter(op => op.outcome !== 'Successful' && op.outcome !== 'Interrupted'), [])
      for (const {at: when, uuid} of killed) {
        const op = ofType.find(o => o.uuid === uuid)
        assert.ok(op, `operation ${uuid} is not listed`)
        if (op.outcome === 'Interrupted') assert.equal(op.exitCode, 4)
        else assert.ok(Date.parse(op.ended!) <= when, `${uuid} was killed before its end and shows ${op.outcome}`)
      }
    },
    get kills() {
      return kills
    },
  }
}
