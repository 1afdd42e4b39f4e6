import type {ItemRevision} from '../engine/history/item-revision.js'

import {isoOrNull, isoTime} from '../engine/history/history-time.js'

/** One state of an item as `--json` returns it: ISO times, every field of the revision. */
export interface ItemStateView {
  from: string
  /** null while the state is current. */
  to: null | string
  operation: string
  seq: null | number
  folder: null | string
  folderPath: string
  flags: string[]
  tags: string[]
  metadata: Record<string, unknown>
  deleted: boolean
  blobDigest: null | string
  size: null | number
  contentMissing: boolean
  /** The content is in the backup's blob store (dump_blob can write it). */
  contentInBackup: boolean
}

export function itemStateView(state: ItemRevision & {folderPath: string}): ItemStateView {
  return {
    from: isoTime(state.validFrom),
    to: isoOrNull(state.validTo),
    operation: state.operation,
    seq: state.seq,
    folder: state.folder,
    folderPath: state.folderPath,
    flags: state.flags,
    tags: state.tags,
    metadata: state.metadata,
    deleted: state.deleted,
    blobDigest: state.blobDigest,
    size: state.size,
    contentMissing: state.contentMissing,
    contentInBackup: state.contentStored,
  }
}

/** A few readable lines for one state. */
export function describeItemState(view: ItemStateView): string[] {
  const missing = 'MISSING (not stored: gone on the AppServer when scanned, or not the content it announced; getBackupInfo lists why)'
  const where = view.contentMissing ? missing : (view.contentInBackup ? 'in the backup' : 'not in the backup (blobless)')
  const content = view.blobDigest === null
    ? (view.contentMissing ? 'missing (gone on the AppServer, digest unknown)' : 'none')
    : `${view.blobDigest} ${view.size ?? '?'} bytes, ${where}`
  return [
    `${view.from} .. ${view.to ?? 'now'}  ${view.operation}${view.seq === null ? '' : ` (seq ${view.seq})`}${view.deleted ? '  DELETED' : ''}`,
    `  folder: ${view.folderPath} (${view.folder ?? '-'})`,
    `  flags: ${list(view.flags)}  tags: ${list(view.tags)}`,
    `  content: ${content}`,
    `  metadata: ${JSON.stringify(view.metadata)}`,
  ]
}

function list(values: string[]): string {
  return values.length === 0 ? '-' : values.join(' ')
}

/** Bytes in a unit a person reads at a glance. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }

  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}
