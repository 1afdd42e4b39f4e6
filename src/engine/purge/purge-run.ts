import type {Catalog} from '../catalog/catalog.js'
import type {ProgressSink} from '../progress.js'
import type {BlobTrash} from './blob-trash.js'
import type {PurgeReport} from './purge-report.js'

import {countersOf} from './purge-report.js'

/** One purge in progress: what every phase reads and adds to. Nothing in it grows with the catalog. */
export interface PurgeRun {
  /** The catalog purged: the server's, or the one of another backup path. */
  catalog: Catalog
  signal: AbortSignal
  progress: ProgressSink
  report: PurgeReport
  trash: BlobTrash
  /** Rows handled per transaction. */
  batchSize: number
  /** A blob referenced less than this long ago is left for the next purge. */
  blobGraceMs: number
  /** When this purge started, by its clock: noted on blob candidates. */
  startedAt: number
  /** Tests widen the window in which a scanner batch can race the purge. */
  pauseBeforeBlobCommit?: () => Promise<void>
}

export function reportCounters(run: PurgeRun): void {
  run.progress({kind: 'counters', counters: countersOf(run.report)})
}
