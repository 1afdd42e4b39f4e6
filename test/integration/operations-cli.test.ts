import type {ChildProcess} from 'node:child_process'

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {
  eventually, outputOf, runCli, startCli, startFixture, UUID, waitFor,
} from '../helpers/run-cli.js'

/** Operations driven from several shells at once, through the real CLI on a SQLite catalog. */
describe('operations from the command line', function () {
  this.timeout(90_000)
  let home: string
  let env: NodeJS.ProcessEnv
  const children: ChildProcess[] = []

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-ops-'))
    env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1.example.com'}
  })

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
    rmSync(home, {recursive: true, force: true})
  })

  async function json(args: string[]): Promise<any> {
    const result = await runCli([...args, '--json'], env)
    assert.equal(result.code, 0, `carbonio ${args.join(' ')} failed: ${result.stdout}${result.stderr}`)
    return JSON.parse(result.stdout)
  }

  async function firstLine(child: ChildProcess): Promise<string> {
    return eventually('a UUID on stdout', async () => outputOf(child).stdout.split('\n')[0].match(UUID)?.[0])
  }

  async function holdQueue(): Promise<{child: ChildProcess; uuid: string}> {
    const child = startFixture('hold-operation.ts', [], env)
    children.push(child)
    const uuid = await firstLine(child)
    await eventually('the holder running', async () => ((await json(['backup', 'monitor', uuid])).state === 'running' ? true : undefined))
    return {child, uuid}
  }

  it('runs doPurge as an operation: UUID first, exit 0, completed in monitor', async () => {
    const result = await runCli(['backup', 'doPurge', 'purgeDays', '30'], env)
    assert.equal(result.code, 0, result.stderr)
    const uuid = result.stdout.split('\n')[0]
    assert.match(uuid, UUID)
    assert.match(result.stdout, /purged 0 items, 0 revisions/)
    const view = await json(['backup', 'monitor', uuid])
    assert.equal(view.state, 'completed')
    assert.equal(view.outcome, 'Successful')
    assert.equal(view.exitCode, 0)
    assert.deepEqual(view.parameters, {purgeDays: 30})
    assert.equal(view.result.retentionDays, 30)
    assert.ok(Date.parse(view.started) <= Date.parse(view.ended))
  })

  it('queues a second operation, lists it, removes it (exit 3) and stops the running one (exit 2)', async () => {
    const holder = await holdQueue()
    const listedRunning = await json(['backup', 'getAllOperations'])
    assert.deepEqual(listedRunning.operations.map((op: any) => [op.uuid, op.state]), [[holder.uuid, 'running']])
    // Progress reaches the catalog with the next heartbeat (about a second).
    const step = await eventually('the holder progress', async () =>
      (await json(['backup', 'getAllOperations'])).operations[0].progress.step ?? undefined)
    assert.equal(step, 'alice@example.com: holding the queue')

    const purge = startCli(['backup', 'doPurge'], env)
    children.push(purge)
    const purgeUuid = await firstLine(purge)
    const listed = await eventually('the purge queued', async () => {
      const ops = (await json(['backup', 'getAllOperations'])).operations
      return ops.length === 2 ? ops : undefined
    })
    assert.deepEqual(listed.map((op: any) => [op.uuid, op.state, op.queuePosition ?? null]), [
      [holder.uuid, 'running', null],
      [purgeUuid, 'queued', 1],
    ])

    const removed = await runCli(['backup', 'doStopOperation', purgeUuid], env)
    assert.equal(removed.code, 0, removed.stderr)
    assert.match(removed.stdout, /Removed/)
    const purgeExit = await waitFor(purge)
    assert.equal(purgeExit.code, 3, purgeExit.stderr)

    const stopped = await json(['backup', 'doStopOperation', holder.uuid])
    assert.equal(stopped.state, 'stopped')
    assert.equal((await waitFor(holder.child)).code, 2)
    assert.deepEqual((await json(['backup', 'getAllOperations'])).operations, [])
  })

  it('starts the queued operation once the running one is stopped', async () => {
    const holder = await holdQueue()
    const purge = startCli(['backup', 'doPurge', '--json'], env)
    children.push(purge)
    await eventually('the purge queued', async () =>
      (await json(['backup', 'getAllOperations'])).operations.length === 2 ? true : undefined)
    const all = await json(['backup', 'doStopAllOperations'])
    // stopAll removes the queue first, so the purge never runs.
    assert.deepEqual(all.operations.map((op: any) => op.state).sort(), ['removed', 'stopped'])
    assert.equal((await waitFor(purge)).code, 3)
    assert.equal((await waitFor(holder.child)).code, 2)

    const holder2 = await holdQueue()
    const purge2 = startCli(['backup', 'doPurge', '--json'], env)
    children.push(purge2)
    await eventually('the purge queued', async () =>
      (await json(['backup', 'getAllOperations'])).operations.length === 2 ? true : undefined)
    await json(['backup', 'doStopOperation', holder2.uuid])
    const finished = await waitFor(purge2)
    assert.equal(finished.code, 0, finished.stderr)
    assert.equal(JSON.parse(finished.stdout).state, 'completed')
  })

  it('shows an operation whose process was killed as Interrupted; follow exits 4', async () => {
    const holder = await holdQueue()
    holder.child.kill('SIGKILL')
    await waitFor(holder.child)
    assert.deepEqual((await json(['backup', 'getAllOperations'])).operations, [])
    const view = await json(['backup', 'monitor', holder.uuid])
    assert.equal(view.state, 'interrupted')
    assert.equal(view.outcome, 'Interrupted')
    const followed = await runCli(['backup', 'monitor', holder.uuid, 'follow', 'true'], env)
    assert.equal(followed.code, 4)
    assert.match(followed.stdout, /state: Interrupted/)
  })

  it('marks an operation interrupted when its process is shut down with SIGTERM', async () => {
    const holder = await holdQueue()
    holder.child.kill('SIGTERM')
    assert.equal((await waitFor(holder.child)).code, 4)
    assert.equal((await json(['backup', 'monitor', holder.uuid])).state, 'interrupted')
  })

  it('lists 50 finished operations with large results under --json in bounded memory', async () => {
    // oclif's JSON colouring made an object per token of the whole text, colour or not: after 50 doExport runs of 600
    // accounts, getAllOperations all true --json took 392 MB (the design's bound is about 256 MB) and 13 s.
    const purge = await runCli(['backup', 'doPurge', 'purgeDays', '30'], env)
    assert.equal(purge.code, 0, purge.stderr)
    const catalog = await openCatalog({env})
    try {
      const [row] = await catalog.db('operations').select('*')
      const accounts = Array.from({length: 1500}, (_, i) => ({
        account: `user${i}@example.com`, items: i, messages: i, bytes: i * 1000, directory: `/srv/export/user${i}@example.com`,
      }))
      const result = JSON.stringify({accounts})
      await catalog.db('operations').insert(Array.from({length: 50}, (_, i) => ({
        ...row, seq: undefined, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, result,
      })))
    } finally {
      await catalog.close()
    }

    const listed = await runCli(['backup', 'getAllOperations', 'all', 'true', '--json'], {...env, NODE_OPTIONS: '--max-old-space-size=64'})
    assert.equal(listed.code, 0, listed.stderr.slice(-500))
    const {operations} = JSON.parse(listed.stdout)
    assert.equal(operations.length, 50)
    assert.equal(operations[49].result.accounts.length, 1500)
  })

  it('refuses an unknown UUID with one line and exit 1', async () => {
    const result = await runCli(['backup', 'monitor', '00000000-0000-4000-8000-00000000dead'], env)
    assert.equal(result.code, 1)
    assert.match(result.stderr, /no operation with UUID 00000000-0000-4000-8000-00000000dead: list them with 'carbonio backup getAllOperations'/)
    const asJson = await runCli(['backup', 'monitor', 'nope', '--json'], env)
    assert.equal(asJson.code, 1)
    assert.match(JSON.parse(asJson.stdout).error.message, /no operation with UUID nope/)
  })
})
