import assert from 'node:assert/strict'

import {mapAhead} from '../../src/engine/map-ahead.js'

const tick = () => new Promise(resolve => {
  setImmediate(resolve)
})

describe('mapAhead', () => {
  it('yields the results in the order of the jobs, with at most depth jobs read ahead of the consumer', async () => {
    let running = 0
    let most = 0
    const read = async (job: number) => {
      running++
      most = Math.max(most, running)
      // Later jobs finish first: the order must still be the jobs'.
      await new Promise(resolve => {
        setTimeout(resolve, 10 - job)
      })
      running--
      return job * 10
    }

    const seen: number[] = []
    for await (const result of mapAhead([1, 2, 3, 4, 5, 6], read, 2)) seen.push(result)
    assert.deepEqual(seen, [10, 20, 30, 40, 50, 60])
    assert.equal(most, 2)
  })

  it('reports a failed read when the consumer reaches it, and a later failure waiting behind it is no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const read = async (job: number) => {
        if (job === 1) {
          await new Promise(resolve => {
            setTimeout(resolve, 20)
          })
          return job
        }

        throw new Error(`job ${job} failed`)
      }

      const seen: number[] = []
      await assert.rejects(async () => {
        for await (const result of mapAhead([1, 2, 3], read, 2)) seen.push(result)
      }, /job 2 failed/)
      await tick()
      assert.deepEqual(seen, [1])
      assert.deepEqual(unhandled, [])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('waits for the reads under way when the consumer stops early', async () => {
    let finished = 0
    const read = async (job: number) => {
      await new Promise(resolve => {
        setTimeout(resolve, 5 * job)
      })
      finished++
      return job
    }

    await assert.rejects(async () => {
      for await (const result of mapAhead([1, 2, 3, 4], read, 2)) {
        if (result === 1) throw new Error('stop')
      }
    }, /stop/)
    // Jobs 2 and 3 were being read when the consumer stopped; job 4 never started.
    assert.equal(finished, 3)
  })
})
