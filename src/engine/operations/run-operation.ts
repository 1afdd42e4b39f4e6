import type {Catalog} from '../catalog/catalog.js'
import type {ProgressEvent, ProgressSink} from '../progress.js'
import type {StopReason} from './operation-state.js'

import {OperationAborted} from '../errors.js'
import {failureMessage} from '../storage-errors.js'
import {reportOf} from './failure-report.js'
import {waitForTurn} from './operation-queue.js'
import {EMPTY_PROGRESS, type OperationProgress, type OperationRecord} from './operation-record.js'
import {
  createOperation, finishOperation, recordHeartbeat, requireOperation,
} from './operations-store.js'
import {HEARTBEAT_INTERVAL_MS} from './process-liveness.js'

/** What the engine function of an operation receives. */
export interface OperationContext {
  readonly catalog: Catalog
  readonly uuid: string
  readonly server: string
  /** Fires when the operation is stopped (doStopOperation, Ctrl-C) or interrupted (SIGTERM). */
  readonly signal: AbortSignal
  readonly progress: ProgressSink
}

export type OperationWork = (context: OperationContext) => Promise<Record<string, unknown>>

export interface OperationObserver {
  /** The operation exists: callers print its UUID before anything else. */
  created?(record: OperationRecord): void
  waiting?(ahead: number): void
  started?(record: OperationRecord): void
  progress?(event: ProgressEvent): void
}

export interface RunOperationOptions {
  type: string
  server: string
  parameters: Record<string, unknown>
  work: OperationWork
  observer?: OperationObserver
  /** Aborted by the caller (e.g. on SIGINT/SIGTERM) with a StopReason as the abort reason. */
  signal?: AbortSignal
}

/**
 * Runs engine work as an operation: recorded with a UUID, queued FIFO behind other operations, heartbeating,
 * stoppable from another process, and ending in exactly one final state with its result or error.
 */
export async function runOperation(catalog: Catalog, options: RunOperationOptions): Promise<OperationRecord> {
  const {observer} = options
  const created = await createOperation(catalog, {
    type: options.type,
    server: options.server,
    parameters: options.parameters,
  })
  observer?.created?.(created)

  const controller = new AbortController()
  const onExternalAbort = () => controller.abort(options.signal?.reason ?? 'stop')
  options.signal?.addEventListener('abort', onExternalAbort, {once: true})
  try {
    if (options.signal?.aborted) onExternalAbort()
    const turn = controller.signal.aborted ? 'removed' : await waitForTurn(catalog, created.uuid, observer?.waiting, controller.signal)
    if (turn === 'removed' || controller.signal.aborted) {
      return await removeUnstarted(catalog, created.uuid)
    }

    observer?.started?.(await requireOperation(catalog, created.uuid))
    return await runStarted(catalog, created.uuid, options, controller)
  } finally {
    options.signal?.removeEventListener('abort', onExternalAbort)
  }
}

/**
 * Stopped before its work began: removed, as Carbonio reports a queued operation that never ran. Also when the stop
 * came just as it was promoted to running (no work ran): left running, it would show as running until reaped.
 */
async function removeUnstarted(catalog: Catalog, uuid: string): Promise<OperationRecord> {
  await catalog
  .db('operations')
  .where({uuid})
  .whereIn('state', ['queued', 'running'])
  .update({state: 'removed', ended_at: Date.now(), error: 'removed from the queue before it started'})
  return requireOperation(catalog, uuid)
}

async function runStarted(
  catalog: Catalog,
  uuid: string,
  options: RunOperationOptions,
  controller: AbortController,
): Promise<OperationRecord> {
  const progress: OperationProgress = structuredClone(EMPTY_PROGRESS)
  let progressDirty = true
  const sink: ProgressSink = event => {
    applyEvent(progress, event)
    progressDirty = true
    options.observer?.progress?.(event)
  }

  // The heartbeat proves this process alive, publishes progress and picks up a stop asked from another shell.
  let heartbeatBusy = false
  const heartbeat = setInterval(() => {
    if (heartbeatBusy) return
    heartbeatBusy = true
    const snapshot = progressDirty ? progress : undefined
    progressDirty = false
    recordHeartbeat(catalog, uuid, snapshot)
    .then(stop => {
      if (stop && !controller.signal.aborted) controller.abort(stop)
    })
    .catch(() => {
      // A busy catalog delays one heartbeat; the next one retries. The stale limit is far longer.
      progressDirty = true
    })
    .finally(() => {
      heartbeatBusy = false
    })
  }, HEARTBEAT_INTERVAL_MS)

  try {
    const result = await options.work({
      catalog, uuid, server: options.server, signal: controller.signal, progress: sink,
    })
    // Stopped, yet it returned: the stop came too late to end it early, or the work wound down and said what it had
    // done. Either way its report is kept (what an undelete could not restore, what a restore added).
    if (controller.signal.aborted) return await finishAborted(catalog, uuid, progress, controller, result)
    return await finishOperation(catalog, uuid, {state: 'completed', progress, result})
  } catch (error) {
    if (controller.signal.aborted || error instanceof OperationAborted) {
      return await finishAborted(catalog, uuid, progress, controller)
    }

    // A failure that says what the work did before it (withReport) keeps that as the result.
    return await finishOperation(catalog, uuid, {
      state: 'failed', progress, result: reportOf(error), error: failureMessage(error, catalog.home),
    })
  } finally {
    clearInterval(heartbeat)
  }
}

function finishAborted(
  catalog: Catalog,
  uuid: string,
  progress: OperationProgress,
  controller: AbortController,
  result?: Record<string, unknown>,
): Promise<OperationRecord> {
  const reason = (controller.signal.reason as StopReason | undefined) ?? 'stop'
  return reason === 'interrupt'
    ? finishOperation(catalog, uuid, {
      state: 'interrupted', progress, result, error: 'interrupted by a shutdown',
    })
    : finishOperation(catalog, uuid, {
      state: 'stopped', progress, result, error: 'stopped on request',
    })
}

const MAX_WARNINGS_KEPT = 100

function applyEvent(progress: OperationProgress, event: ProgressEvent): void {
  switch (event.kind) {
  case 'counters': {
    Object.assign(progress.counters, event.counters)
    break
  }

  case 'step': {
    progress.step = event.account ? `${event.account}: ${event.message}` : event.message
    break
  }

  case 'warning': {
    if (progress.warnings.length < MAX_WARNINGS_KEPT) {
      progress.warnings.push(event.account ? `${event.account}: ${event.message}` : event.message)
    }

    break
  }
  }
}
