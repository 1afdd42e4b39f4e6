import path from 'node:path'

/** Where a blob lives: items/<first two hex chars>/<sha256 hex>, so no directory grows past 1/256 of the store. */
export function blobPath(home: string, digest: string): string {
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`not a sha256 digest: ${digest}`)
  return path.join(home, 'items', digest.slice(0, 2), digest)
}
