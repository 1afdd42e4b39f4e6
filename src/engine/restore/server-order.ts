// The order a restore appends a folder's messages in becomes their UID order in the destination, which is the
// "order received" that mail clients (and Roundcube by default) list a folder in. The backup keeps no UID of the
// moment restored, but an item's server id grows with its arrival: a Carbonio id is a number, and the IMAP capture
// names a message <folder>/<UIDVALIDITY>/<UID>. Compared as plain strings, "10" sorts before "9" and a restored
// folder of ten messages or more came back shuffled; compared with their digit runs as numbers, they keep their order.

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
