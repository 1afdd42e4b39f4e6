import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'

import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {imapCatchUpOnce, type ImapOnceTotals} from '../realtime/imap-once.js'
import {lastAppliedSeq} from '../scanner/checkpoints.js'
import {runScanner, type ScannerTotals} from '../scanner/realtime-scanner.js'
import {claimOrRefuse, keepClaim, releaseClaim} from './daemon-claim.js'
import {feedForServer, imapCaptureForServer} from './feed-for-server.js'

export type CatchUpTotals = ImapOnceTotals | ScannerTotals

/**
 * Applies everything the feed holds now and returns: the daemon's scanner without the waiting (tests, cron, bench).
 * With no redolog but an IMAP AppServer, the daemon's realtime capture once over every account instead. It is the
 * server's daemon while it runs: it refuses to start beside a live one (whose checkpoint it would race), and a daemon
 * started meanwhile refuses until it is done.
 */
export async function catchUpOnce(
  catalog: Catalog,
  server: string,
  signal: AbortSignal,
  progress?: ProgressSink,
): Promise<CatchUpTotals> {
  await claimOrRefuse(catalog, server)
  const done = new AbortController()
  const lost = new AbortController()
  const keeping = keepClaim(catalog, server, done.signal, lost)
  try {
    const totals = await catchUp(catalog, server, AbortSignal.any([signal, lost.signal]), progress)
    if (lost.signal.aborted) throw new UserError(`another backup daemon took server ${server} over while this run (pid ${process.pid}) was not heartbeating: stopped after its current batch`)
    return totals
  } finally {
    done.abort()
    await keeping
    if (!lost.signal.aborted) await releaseClaim(catalog, server)
  }
}

async function catchUp(catalog: Catalog, server: string, signal: AbortSignal, progress?: ProgressSink): Promise<CatchUpTotals> {
  const config = await serverConfig(catalog, server)
  const selected = feedForServer(config, server, false)
  if ('reason' in selected) {
    const imap = imapCaptureForServer(config)
    if (imap && 'settings' in imap) {
      return imapCatchUpOnce({
        catalog, server, settings: imap.settings, signal, progress,
      })
    }

    throw new UserError(imap ? imap.reason : selected.reason)
  }

  let applied = 0
  // Where the backup stands in the feed, across batches: a batch of bad lines only has no seq of its own.
  let lastSeq = await lastAppliedSeq(catalog, selected.feed)
  const totals = await runScanner({
    catalog,
    server,
    feed: selected.feed,
    signal,
    onBatch(stats) {
      applied += stats.transactions
      lastSeq = stats.lastSeq ?? lastSeq
      // Each bad line with its file, line and reason, never throttled like the progress steps.
      for (const problem of stats.problems) progress?.({kind: 'warning', message: problem})
      const where = lastSeq === null ? '' : `, last seq ${lastSeq}`
      progress?.({kind: 'step', message: `${applied} transactions applied${where}${stats.errors ? `, ${stats.errors} errors in this batch` : ''}`})
    },
  })
  // Nothing new is not "no seq": like the daemon's "caught up at seq N", it says where the backup stands.
  totals.lastSeq ??= lastSeq
  return totals
}
