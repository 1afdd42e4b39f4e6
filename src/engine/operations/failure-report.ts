/**
 * Work that fails half-way may have done part of its job: a restore that a full account stopped put messages in. Its
 * report of that part goes with the error, and the failed operation keeps it as its result, so that the
 * administrator learns how far it got (and --json, monitor and getAllOperations show it) instead of the error alone.
 */
const reports = new WeakMap<object, Record<string, unknown>>()

/** The error, now carrying what the work did before it. */
export function withReport<E extends Error>(error: E, report: Record<string, unknown>): E {
  reports.set(error, report)
  return error
}

/** The report that withReport gave the error, if any. */
export function reportOf(error: unknown): Record<string, unknown> | undefined {
  return typeof error === 'object' && error !== null ? reports.get(error) : undefined
}
