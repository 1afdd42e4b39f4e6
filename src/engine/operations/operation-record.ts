import type {OperationState, StopReason} from './operation-state.js'

/** An operation as `monitor` and `getAllOperations` show it. Times are milliseconds since the epoch. */
export interface OperationRecord {
  uuid: string
  type: string
  state: OperationState
  server: string
  host: string
  pid: number
  parameters: Record<string, unknown>
  progress: OperationProgress
  result: null | Record<string, unknown>
  error: null | string
  createdAt: number
  startedAt: null | number
  endedAt: null | number
  heartbeatAt: number
  stopRequested: null | StopReason
  /** For a queued operation: how many operations run or wait before it. */
  queuePosition?: number
}

export interface OperationProgress {
  counters: Record<string, number>
  /** The latest step line, e.g. "alice@example.com: 120 items". */
  step: null | string
  warnings: string[]
}

export const EMPTY_PROGRESS: OperationProgress = {counters: {}, step: null, warnings: []}

export interface OperationRow {
  seq: number
  uuid: string
  type: string
  state: OperationState
  server: string
  host: string
  pid: number
  parameters: string
  progress: string
  result: null | string
  error: null | string
  created_at: number
  started_at: null | number
  ended_at: null | number
  heartbeat_at: number
  stop_requested: null | StopReason
}

export function fromRow(row: OperationRow): OperationRecord {
  return {
    uuid: row.uuid,
    type: row.type,
    state: row.state,
    server: row.server,
    host: row.host,
    pid: Number(row.pid),
    parameters: JSON.parse(row.parameters),
    progress: {...EMPTY_PROGRESS, ...JSON.parse(row.progress)},
    result: row.result ? JSON.parse(row.result) : null,
    error: row.error,
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    heartbeatAt: Number(row.heartbeat_at),
    stopRequested: row.stop_requested,
  }
}
