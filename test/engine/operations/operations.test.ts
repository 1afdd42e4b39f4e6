import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'

import type {OperationRecord} from '../../../src/engine/operations/operation-record.js'

import {findOperation, listOperations, requestStop} from '../../../src/engine/operations/operations-store.js'
import {THIS_HOST} from '../../../src/engine/operations/process-liveness.js'
import {type OperationContext, runOperation} from '../../../src/engine/operations/run-operation.js'
import {stopAllOperationsAndWait} from '../../../src/engine/operations/stop-operations.js'
import {eventually} from '../../helpers/run-cli.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

/** Work that runs until the test releases it or the operation is stopped. */
function heldWork() {
  let release!: () => void
  const released = new Promise<void>(resolve => {
    release = resolve
  })
  const started: string[] = []
  const work = async ({uuid, signal}: OperationContext) => {
    started.push(uuid)
    await Promise.race([released, new Promise(resolve => {
      signal.addEventListener('abort', resolve, {once: true})
    })])
    return {done: true}
  }

  return {work, release, started}
}

for (const dialect of DIALECTS) {
  describe(`operations (${dialect})`, () => {
    let t: TestCatalog

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    function start(type: string, work: (c: OperationContext) => Promise<Record<string, unknown>>, signal?: AbortSignal) {
      let uuid = ''
      const done = runOperation(t.catalog, {
        type, server: 'mail1', parameters: {n: type}, work, signal,
        observer: {
          created(r) {
            uuid = r.uuid
          },
        },
      })
      return {done, uuid: () => uuid}
    }

    async function stateOf(uuid: string): Promise<OperationRecord['state'] | undefined> {
      return (await findOperation(t.catalog, uuid))?.state
    }

    it('runs queued operations one at a time in FIFO order', async () => {
      const a = heldWork()
      const b = heldWork()
      const c = heldWork()
      const first = start('first', a.work)
      await eventually('first running', async () => (a.started.length === 1 ? true : undefined))
      const second = start('second', b.work)
      await eventually('second recorded', async () => second.uuid() || undefined)
      const third = start('third', c.work)
      await eventually('third recorded', async () => third.uuid() || undefined)

      const listed = await listOperations(t.catalog)
      assert.deepEqual(listed.map(op => [op.type, op.state, op.queuePosition]), [
        ['first', 'running', undefined],
        ['second', 'queued', 1],
        ['third', 'queued', 2],
      ])
      a.release()
      assert.equal((await first.done).state, 'completed')
      await eventually('second running', async () => (b.started.length === 1 ? true : undefined))
      assert.equal(c.started.length, 0, 'third must wait for second')
      assert.equal(await stateOf(third.uuid()), 'queued')
      b.release()
      c.release()
      assert.equal((await second.done).state, 'completed')
      const last = await third.done
      assert.equal(last.state, 'completed')
      assert.deepEqual(last.result, {done: true})
      assert.ok(last.startedAt! >= (await findOperation(t.catalog, second.uuid()))!.endedAt!)
    })

    it('stops a running operation through the catalog, as another shell does', async () => {
      const a = heldWork()
      const op = start('held', a.work)
      await eventually('running', async () => (a.started.length === 1 ? true : undefined))
      const requested = await requestStop(t.catalog, op.uuid())
      assert.equal(requested.stopRequested, 'stop')
      const record = await op.done
      assert.equal(record.state, 'stopped')
      assert.ok(record.endedAt)
      // The work returned after the stop (a stop that came too late, or a work that says what it did before it
      // ended): its report is kept, not thrown away.
      assert.deepEqual(record.result, {done: true})
    })

    it('finds and stops an operation given its UUID in capitals, as UUIDs are written in some tools', async () => {
      const a = heldWork()
      const op = start('held', a.work)
      await eventually('running', async () => (a.started.length === 1 ? true : undefined))
      const upper = op.uuid().toUpperCase()
      assert.equal((await findOperation(t.catalog, upper))?.uuid, op.uuid())
      assert.equal((await requestStop(t.catalog, upper)).stopRequested, 'stop')
      assert.equal((await op.done).state, 'stopped')
    })

    it('removes a queued operation without ever starting it', async () => {
      const a = heldWork()
      const b = heldWork()
      const first = start('first', a.work)
      await eventually('first running', async () => (a.started.length === 1 ? true : undefined))
      const second = start('second', b.work)
      await eventually('second queued', async () => (second.uuid() && (await stateOf(second.uuid())) === 'queued' ? true : undefined))
      assert.equal((await requestStop(t.catalog, second.uuid())).state, 'removed')
      assert.equal((await second.done).state, 'removed')
      assert.equal(b.started.length, 0)
      a.release()
      assert.equal((await first.done).state, 'completed')
    })

    it('records a failure with its message, and an abort for shutdown as interrupted', async () => {
      const failed = await runOperation(t.catalog, {
        type: 'boom', server: 'mail1', parameters: {},
        async work() {
          throw new Error('disk full at /backup')
        },
      })
      assert.equal(failed.state, 'failed')
      assert.equal(failed.error, 'disk full at /backup')

      const controller = new AbortController()
      const a = heldWork()
      const op = start('shutdown', a.work, controller.signal)
      await eventually('running', async () => (a.started.length === 1 ? true : undefined))
      controller.abort('interrupt')
      assert.equal((await op.done).state, 'interrupted')
    })

    it('shows an operation whose process died as interrupted and lets the queue move on', async () => {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
      const deadPid = Number(dead.stdout)
      const at = Date.now()
      const base = {
        type: 'ghost', server: 'mail1', parameters: '{}', progress: '{}', created_at: at, started_at: at,
      }
      await t.catalog.db('operations').insert({
        ...base, uuid: '00000000-0000-4000-8000-000000000001', state: 'running', host: THIS_HOST, pid: deadPid, heartbeat_at: at,
      })
      // On another host only the heartbeat can tell: a stale one means dead.
      await t.catalog.db('operations').insert({
        ...base, uuid: '00000000-0000-4000-8000-000000000002', state: 'queued', host: 'elsewhere', pid: 1, heartbeat_at: at - 120_000,
      })
      await t.catalog.db('operations').insert({
        ...base, uuid: '00000000-0000-4000-8000-000000000003', state: 'queued', host: 'elsewhere', pid: 1, heartbeat_at: at,
      })

      const listed = await listOperations(t.catalog)
      assert.deepEqual(listed.map(op => op.uuid), ['00000000-0000-4000-8000-000000000003'])
      const ghost = await findOperation(t.catalog, '00000000-0000-4000-8000-000000000001')
      assert.equal(ghost?.state, 'interrupted')
      assert.match(ghost?.error ?? '', new RegExp(`pid ${deadPid}`))
      assert.equal((await findOperation(t.catalog, '00000000-0000-4000-8000-000000000002'))?.state, 'interrupted')
    })

    it('stops all the operations of one server only: servers sharing a catalog share its queue, not their work', async () => {
      const at = Date.now()
      for (const [index, server] of ['mail1', 'mail2', 'mail1'].entries()) {
        await t.catalog.db('operations').insert({
          uuid: `00000000-0000-4000-8000-00000000001${index}`, type: 'doPurge', server, state: 'queued', host: THIS_HOST, pid: process.pid,
          parameters: '{}', progress: '{}', created_at: at, heartbeat_at: at,
        })
      }

      const stopped = await stopAllOperationsAndWait(t.catalog, 'mail1')
      assert.deepEqual(stopped.map(op => [op.server, op.state]), [['mail1', 'removed'], ['mail1', 'removed']])
      assert.equal((await findOperation(t.catalog, '00000000-0000-4000-8000-000000000011'))?.state, 'queued')
    })

    it('publishes progress on the heartbeat for monitor in another shell', async () => {
      let release!: () => void
      const released = new Promise<void>(resolve => {
        release = resolve
      })
      const op = start('progressing', async ({progress}) => {
        progress({kind: 'step', account: 'bob@example.com', message: '12 items'})
        progress({kind: 'counters', counters: {items: 12}})
        progress({kind: 'warning', account: 'bob@example.com', message: 'one item had no content'})
        await released
        return {}
      })
      const seen = await eventually('progress in the catalog', async () => {
        const record = op.uuid() ? await findOperation(t.catalog, op.uuid()) : undefined
        return record?.progress.counters.items === 12 ? record : undefined
      })
      assert.equal(seen.progress.step, 'bob@example.com: 12 items')
      assert.deepEqual(seen.progress.warnings, ['bob@example.com: one item had no content'])
      release()
      await op.done
    })
  })
}
