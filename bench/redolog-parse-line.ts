/**
 * Throughput of the redolog line validator against bare JSON.parse, on a realistic mix of lines.
 * Run: npx tsx bench/redolog-parse-line.ts [lines]
 */
import {parseRedologLine} from '../src/engine/appserver/redolog/parse-line.js'

const count = Number(process.argv[2] ?? 1_000_000)
const digest = 'acdab4d6b4e5edbf5530f5daa38da742d7fd3e0b6c93b545ff5bee809eecfe30'

function sampleLine(seq: number): string {
  const account = `user${String(seq % 1000).padStart(4, '0')}@example.com`
  const item = String(1000 + Math.floor(seq / 7))
  const time = seq % 2 === 0 ? 1_740_824_400_000 + seq : new Date(1_740_824_400_000 + seq).toISOString()
  const kind = seq % 10
  let op: string
  let data: unknown
  if (kind < 5) {
    op = 'item.created'
    data = {
      item, type: 'message', folder: '2', flags: [], tags: [],
      metadata: {subject: `Report ${seq}`, from: 'bob@example.com', messageId: `<m${seq}@example.com>`},
      content: {path: `store/${seq % 100}/${item}-1.msg`, size: 2048 + (seq % 48_000), digest},
    }
  } else if (kind < 8) {
    op = 'item.flags'
    data = {item, flags: [String.raw`\Seen`]}
  } else if (kind === 8) {
    op = 'item.moved'
    data = {item, folder: '257'}
  } else {
    op = 'item.deleted'
    data = {item}
  }

  return JSON.stringify({
    v: 1, seq, time, account, op, data,
  })
}

const distinct = Array.from({length: 10_000}, (_, i) => sampleLine(i + 1))
const bytes = distinct.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0) / distinct.length

/** Best of a few rounds: the machine is shared, and the best round is the closest to the code's own cost. */
function measure(parse: (text: string, line: number) => unknown): number {
  for (let i = 0; i < 50_000; i++) parse(distinct[i % distinct.length], i) // warm-up
  let best = 0
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < count; i++) parse(distinct[i % distinct.length], i)
    best = Math.max(best, count / (Number(process.hrtime.bigint() - start) / 1e9))
  }

  return best
}

function report(label: string, rate: number): void {
  console.log(`${label.padEnd(18)} ${Math.round(rate).toLocaleString('en')} lines/s  ${((rate * bytes) / 1e6).toFixed(0)} MB/s`)
}

console.log(`${count.toLocaleString('en')} lines x 3 rounds, ${bytes.toFixed(0)} bytes a line on average, node ${process.version}`)
report('JSON.parse only', measure(text => JSON.parse(text)))
report('parseRedologLine', measure((text, line) => {
  const result = parseRedologLine(text, {source: 'redo-00000000000000000001.log', line})
  if (!result.ok) throw new Error(result.reason)
  return result
}))
