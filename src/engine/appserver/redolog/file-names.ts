/**
 * Redolog file names: `redo-<first seq, 20 digits>.log` (docs/redolog.md). The zero padding makes the byte order of
 * the names the order of the files, but sorting here is by the number so that a listing never depends on it.
 */

export const REDOLOG_FILE_PREFIX = 'redo-'
export const REDOLOG_FILE_SUFFIX = '.log'
export const REDOLOG_SEQ_DIGITS = 20

const NAME = /^redo-(\d{20})\.log$/

/** One file of the redolog directory. */
export interface RedologFile {
  name: string
  /** The seq of the file's first line, as its name says. */
  firstSeq: number
}

/** A file that looks like a redolog file but whose name breaks the rules: reported, not read. */
export interface RejectedRedologFile {
  name: string
  reason: string
}

/** `redo-00000000000000000042.log` for 42. */
export function formatRedologFileName(firstSeq: number): string {
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) {
    throw new RangeError(`a redolog file starts at a seq that is an integer from 1 to 2^53-1, not ${firstSeq}`)
  }

  return `${REDOLOG_FILE_PREFIX}${String(firstSeq).padStart(REDOLOG_SEQ_DIGITS, '0')}${REDOLOG_FILE_SUFFIX}`
}

/** The first seq that a file name announces, or undefined when the name is not a valid redolog file name. */
export function parseRedologFileName(name: string): number | undefined {
  const match = NAME.exec(name)
  if (!match) return undefined
  const seq = Number(match[1])
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : undefined
}

/** Oldest first: the order in which the files are read. */
export function compareRedologFiles(a: RedologFile, b: RedologFile): number {
  return a.firstSeq - b.firstSeq
}

/**
 * Sorts the entries of a redolog directory. Names that do not start with `redo-` are not part of the log (a README,
 * a server's temporary file) and are left out silently; names that start with it but break the rules are returned
 * as rejected so that the scanner can report them instead of silently missing their lines.
 */
export function listRedologFiles(names: Iterable<string>): {files: RedologFile[]; rejected: RejectedRedologFile[]} {
  const files: RedologFile[] = []
  const rejected: RejectedRedologFile[] = []
  for (const name of names) {
    if (!name.startsWith(REDOLOG_FILE_PREFIX)) continue
    const firstSeq = parseRedologFileName(name)
    if (firstSeq === undefined) {
      rejected.push({name, reason: rejectionReason(name)})
    } else {
      files.push({name, firstSeq})
    }
  }

  files.sort(compareRedologFiles)
  return {files, rejected}
}

/** The file being appended to: the one with the highest first seq. */
export function currentRedologFile(files: readonly RedologFile[]): RedologFile | undefined {
  let current: RedologFile | undefined
  for (const file of files) if (current === undefined || file.firstSeq > current.firstSeq) current = file
  return current
}

/**
 * The file that holds `seq`, in a sorted list: the last one whose first seq is at most `seq`. undefined when
 * `seq` comes before every file (those lines were deleted by the server).
 */
export function redologFileFor(files: readonly RedologFile[], seq: number): RedologFile | undefined {
  let low = 0
  let high = files.length - 1
  let found: RedologFile | undefined
  while (low <= high) {
    const middle = (low + high) >>> 1
    if (files[middle].firstSeq <= seq) {
      found = files[middle]
      low = middle + 1
    } else {
      high = middle - 1
    }
  }

  return found
}

function rejectionReason(name: string): string {
  const match = NAME.exec(name)
  if (match) return `${name}: the first seq in the name must be from 1 to 2^53-1`
  return `${name} is not a redolog file name (redo-<first seq as 20 digits>.log)`
}
