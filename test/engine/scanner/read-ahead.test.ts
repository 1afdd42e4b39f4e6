import assert from 'node:assert/strict'

import {readAhead} from '../../../src/engine/scanner/read-ahead.js'

describe('readAhead', () => {
  it('yields every value in order while producing the next one during the consumer\'s work', async () => {
    const produced: number[] = []
    async function * source() {
      for (let i = 1; i <= 4; i++) {
        produced.push(i)
        yield i
      }
    }

    const seen: Array<[number, number[]]> = []
    for await (const value of readAhead(source(), () => {})) {
      await new Promise(resolve => {
        setImmediate(resolve)
      })
      seen.push([value, [...produced]])
    }

    assert.deepEqual(seen.map(([value]) => value), [1, 2, 3, 4])
    // While 1 was being worked on, 2 was already produced; never more than one ahead.
    assert.deepEqual(seen[0][1], [1, 2])
    assert.deepEqual(seen[1][1], [1, 2, 3])
  })

  it('on a break, aborts the step waiting for data and returns the source', async () => {
    const controller = new AbortController()
    let returned = false
    async function * source() {
      try {
        yield 1
        // Waits for "new data" until aborted, like a feed following its log.
        await new Promise(resolve => {
          controller.signal.addEventListener('abort', resolve)
        })
        yield 2
      } finally {
        returned = true
      }
    }

    const seen: number[] = []
    for await (const value of readAhead(source(), () => controller.abort())) {
      seen.push(value)
      if (value === 1) break
    }

    assert.deepEqual(seen, [1])
    assert.equal(controller.signal.aborted, true)
    assert.equal(returned, true)
  })

  it('surfaces a failure of the source when its value is reached, not before', async () => {
    async function * source() {
      yield 1
      throw new Error('bad read')
    }

    const seen: number[] = []
    let failure: Error | undefined
    try {
      for await (const value of readAhead(source(), () => {})) seen.push(value)
    } catch (error) {
      failure = error as Error
    }

    assert.deepEqual(seen, [1])
    assert.equal(failure?.message, 'bad read')
  })
})
