/** The life of an operation. queued -> running -> one of the final states; queued -> removed when stopped early. */
export const OPERATION_STATES = ['queued', 'running', 'completed', 'failed', 'stopped', 'removed', 'interrupted'] as const
export type OperationState = (typeof OPERATION_STATES)[number]

export const ACTIVE_STATES: readonly OperationState[] = ['queued', 'running']

export function isFinal(state: OperationState): boolean {
  return !ACTIVE_STATES.includes(state)
}

/** Carbonio's `--sync` exit codes, which scripts already test for. */
const EXIT_CODES: Record<OperationState, number> = {
  completed: 0,
  failed: 1,
  stopped: 2,
  removed: 3,
  interrupted: 4,
  // An operation still active has no outcome yet; 1 keeps `&&` chains from treating it as success.
  queued: 1,
  running: 1,
}

/** How Carbonio names each outcome in its output. */
const OUTCOME_NAMES: Record<OperationState, string> = {
  completed: 'Successful',
  failed: 'Failed',
  stopped: 'Stopped',
  removed: 'Removed',
  interrupted: 'Interrupted',
  queued: 'Queued',
  running: 'Running',
}

export function exitCodeFor(state: OperationState): number {
  return EXIT_CODES[state]
}

export function outcomeName(state: OperationState): string {
  return OUTCOME_NAMES[state]
}

/** Why a running operation is asked to end: a user's stop, or a shutdown of the process or service. */
export type StopReason = 'interrupt' | 'stop'
