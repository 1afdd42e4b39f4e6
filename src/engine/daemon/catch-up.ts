import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'

import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {runScanner, type ScannerTotals} from '../scanner/realtime-scanner.js'
import {feedForServer} from './feed-for-server.js'

/** Applies everything the feed holds now and returns: the daemon's scanner without the waiting (tests, cron, bench). */
export async function catchUpOnce(
  catalog: Catalog,
  server: string,
  signal: AbortSignal,
  progress?: ProgressSink,
): Promise<ScannerTotals> {
  const selected = feedForServer(await serverConfig(catalog, server), false)
  if ('reason' in selected) throw new UserError(selected.reason)
  let applied = 0
  return runScanner({
    catalog,
    server,
    feed: selected.feed,
    signal,
    onBatch(stats) {
      applied += stats.transactions
      progress?.({kind: 'step', message: `${applied} transactions applied, last seq ${stats.lastSeq ?? '-'}${stats.errors ? `, ${stats.errors} errors in this batch` : ''}`})
    },
  })
}
