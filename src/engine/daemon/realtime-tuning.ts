import type {ImapRealtimeOptions} from '../realtime/imap-realtime.js'

export type RealtimeTuning = Pick<ImapRealtimeOptions, 'intervalMs' | 'pushConnections' | 'pushedIntervalMs'>

/**
 * Internal knobs of the IMAP realtime capture, from the environment rather than configuration attributes: the
 * defaults suit a mail server, and tests and benchmarks need to change them (a long polling interval shows that a
 * capture came from a push; no push connections show the polling on its own).
 *
 * - CARBONIO_BACKUP_REALTIME_POLL_MS: the polling interval of every account, pushed or not (defaults: 1 s without
 *   push, 30 s as the safety net of an account pushed by NOTIFY).
 * - CARBONIO_BACKUP_REALTIME_PUSH_CONNECTIONS: push connections kept at most (default 100; 0: polling only).
 *
 * A value that is not a whole number is ignored.
 */
export function realtimeTuning(env: NodeJS.ProcessEnv = process.env): RealtimeTuning {
  const tuning: RealtimeTuning = {}
  const poll = wholeNumber(env.CARBONIO_BACKUP_REALTIME_POLL_MS)
  if (poll !== undefined && poll > 0) {
    tuning.intervalMs = poll
    tuning.pushedIntervalMs = poll
  }

  const connections = wholeNumber(env.CARBONIO_BACKUP_REALTIME_PUSH_CONNECTIONS)
  if (connections !== undefined) tuning.pushConnections = connections
  return tuning
}

function wholeNumber(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : undefined
}
