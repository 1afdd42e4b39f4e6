/**
 * What engine work tells whoever watches it (the CLI's listr2 renderer, the daemon's log, the operation's
 * progress in the catalog). The engine only emits these; it never draws anything itself.
 */
export type ProgressEvent
  = | {kind: 'counters'; counters: Record<string, number>}
    | {kind: 'step'; account?: string; message: string}
    | {kind: 'warning'; account?: string; message: string}

export type ProgressSink = (event: ProgressEvent) => void

export const ignoreProgress: ProgressSink = () => {}
