import type {ProgressSink} from '../progress.js'

/**
 * A folder whose name holds the destination's hierarchy separator ("Projects.2024" from a server whose separator is
 * "/", onto a Maildir++ Dovecot whose separator is ".") cannot keep its name there: it would be a folder 2024 under
 * Projects, merged with a real Projects/2024. It is restored with "_" in the separator's place (Projects_2024), the
 * same on every run and in the preview, and the restore says so: the administrator would look for it by its old name.
 */
export interface RenamedFolder {
  /** The backup's path of the folder ("/Projects.2024"). */
  folder: string
  /** Where it is on the destination ("/Projects_2024"). */
  restoredAs: string
  /** The destination's hierarchy separator, which the folder's name held. */
  separator: string
}

/** A folder name as the destination can hold it: its separator in the name becomes "_". */
export function nameOnDestination(segment: string, delimiter: null | string | undefined): string {
  return delimiter && delimiter !== '/' ? segment.replaceAll(delimiter, '_') : segment
}

/** How a backup folder placed at `restoredAs` was renamed for the destination's separator; undefined when its names are kept. */
export function renamingOf(folder: string, restoredAs: string, delimiter: null | string | undefined): RenamedFolder | undefined {
  if (!delimiter || delimiter === '/' || !folder.split('/').some(segment => segment.includes(delimiter))) return undefined
  return {folder, restoredAs, separator: delimiter}
}

export function describeRenamed({folder, restoredAs, separator}: RenamedFolder): string {
  return `folder "${folder}" is restored as "${restoredAs}": "${separator}" is the destination's hierarchy separator`
}

/** A renamed folder added to a run's report and said as a warning, once per run however often its folder is used. */
export function announceRenamed(
  report: {renamedFolders: RenamedFolder[]},
  progress: ProgressSink,
  account: string,
  renamed: RenamedFolder | undefined,
): void {
  if (!renamed || report.renamedFolders.some(known => known.folder === renamed.folder)) return
  report.renamedFolders.push(renamed)
  progress({kind: 'warning', account, message: describeRenamed(renamed)})
}
