import {parseLocator} from '../appserver/imap/imap-identity.js'

// The order a restore appends a folder's messages in becomes their UID order in the destination, which is the
// "order received" that mail clients (and Roundcube by default) list a folder in. A message the IMAP capture saw has
// its place in the revision restored (its locator: the UIDVALIDITY and UID of the folder it was in then), so those
// keep the source folder's exact order, a message moved there included. Others (redolog items) go by their server
// id, which grows with their arrival: compared as plain strings, "10" sorts before "9" and a restored folder of ten
// messages or more came back shuffled; compared with their digit runs as numbers, they keep their order.

/** What orders a message among its folder's: its server id and, where the IMAP capture saw it, its locator. */
export interface ArrivalKey {
  id: string
  locator: null | string
}

/** Compares two messages of one folder by when they arrived in it, as the source server numbered them. */
export function compareArrival(a: ArrivalKey, b: ArrivalKey): number {
  const [left, right] = [parseLocator(a.locator), parseLocator(b.locator)]
  if (left && right) return left.uidvalidity - right.uidvalidity || left.uid - right.uid || compareServerIds(a.id, b.id)
  return compareServerIds(a.id, b.id)
}

const PARTS = /(\d+)/

/** Compares two server ids with their runs of digits taken as numbers ("f1/1/9" before "f1/1/10"). */
export function compareServerIds(a: string, b: string): number {
  const left = a.split(PARTS)
  const right = b.split(PARTS)
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    // split() with a capturing group puts the digit runs at the odd indexes.
    const order = i % 2 === 1 ? compareDigits(left[i], right[i]) : compareText(left[i], right[i])
    if (order !== 0) return order
  }

  return left.length - right.length || compareText(a, b)
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, '')
  const y = b.replace(/^0+/, '')
  return x.length - y.length || compareText(x, y)
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : (a > b ? 1 : 0)
}
