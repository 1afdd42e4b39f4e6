/**
 * An error the user can cause and fix: bad argument, unknown attribute, unreachable server.
 * The CLI prints its message as one line and exits with `exitCode`; nothing else is shown.
 */
export class UserError extends Error {
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'UserError'
    this.exitCode = exitCode
  }
}

/** A user error in what was typed: Carbonio and oclif both use exit 2 for usage errors. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2)
    this.name = 'UsageError'
  }
}

/** Thrown by engine work that noticed its AbortSignal; the operation runner turns it into Stopped. */
export class OperationAborted extends Error {
  constructor(reason = 'stopped') {
    super(`operation ${reason}`)
    this.name = 'OperationAborted'
  }
}

/** Throws OperationAborted when the signal fired: call between units of work so a stop takes effect promptly. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OperationAborted()
}
