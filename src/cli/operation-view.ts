import type {OperationRecord} from '../engine/operations/operation-record.js'

import {exitCodeFor, outcomeName} from '../engine/operations/operation-state.js'

/** An operation as the CLI shows it and as `--json` returns it: ISO times, the Carbonio outcome and exit code. */
export interface OperationView {
  uuid: string
  type: string
  state: string
  outcome: string
  exitCode: number | null
  server: string
  host: string
  pid: number
  parameters: Record<string, unknown>
  progress: OperationRecord['progress']
  result: null | Record<string, unknown>
  error: null | string
  created: string
  started: null | string
  ended: null | string
  queuePosition?: number
  /** The operation ran to its end but could not do all of it (a restore with items left out): the exit code is 1. */
  partial?: boolean
}

export function operationView(record: OperationRecord): OperationView {
  const active = record.state === 'queued' || record.state === 'running'
  return {
    uuid: record.uuid,
    type: record.type,
    state: record.state,
    outcome: outcomeName(record.state),
    exitCode: active ? null : exitCodeFor(record.state),
    server: record.server,
    host: record.host,
    pid: record.pid,
    parameters: record.parameters,
    progress: record.progress,
    result: record.result,
    error: record.error,
    created: iso(record.createdAt),
    started: record.startedAt === null ? null : iso(record.startedAt),
    ended: record.endedAt === null ? null : iso(record.endedAt),
    ...(record.queuePosition === undefined ? {} : {queuePosition: record.queuePosition}),
  }
}

/** Human lines for `monitor`: one fact per line, counters last. */
export function describeOperation(view: OperationView): string[] {
  const lines = [
    `uuid: ${view.uuid}`,
    `type: ${view.type}`,
    `state: ${view.outcome}${view.queuePosition === undefined ? '' : ` (${view.queuePosition} ahead in the queue)`}`,
    `server: ${view.server} (pid ${view.pid} on ${view.host})`,
    `created: ${view.created}`,
    `started: ${view.started ?? '-'}`,
    `ended: ${view.ended ?? '-'}`,
  ]
  if (view.progress.step) lines.push(`step: ${view.progress.step}`)
  // While it runs the counters tell how far it got; once it ended its result says what it did.
  if (!view.result) for (const [name, value] of Object.entries(view.progress.counters)) lines.push(`${name}: ${value}`)
  for (const warning of view.progress.warnings) lines.push(`warning: ${warning}`)
  if (view.error) lines.push(`error: ${view.error}`)
  if (view.result) for (const [name, value] of Object.entries(view.result)) lines.push(`${name}: ${JSON.stringify(value)}`)
  return lines
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
