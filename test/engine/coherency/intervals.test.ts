import assert from 'node:assert/strict'

import {closingsFor, intervalProblems, type RevisionSpan} from '../../../src/engine/coherency/intervals.js'

const span = (id: number, validFrom: number, validTo: null | number): RevisionSpan => ({id, validFrom, validTo})

describe('validity intervals', () => {
  it('accepts what the scanner writes: each revision closed where the next begins, equal times, the last one open', () => {
    const problems = intervalProblems([span(1, 10, 20), span(2, 20, 20), span(3, 20, 35), span(4, 35, null)])
    assert.deepEqual(problems, {
      inverted: [], duplicateOpen: [], overlaps: [], noOpen: false,
    })
  })

  it('finds an inverted interval, an overlap, an open revision before a later one, and no open revision', () => {
    assert.deepEqual(intervalProblems([span(1, 10, 5), span(2, 10, null)]).inverted, [span(1, 10, 5)])
    assert.deepEqual(intervalProblems([span(1, 10, 25), span(2, 20, null)]).overlaps, [[span(1, 10, 25), span(2, 20, null)]])
    assert.deepEqual(intervalProblems([span(1, 10, null), span(2, 20, 30)]).overlaps, [[span(1, 10, null), span(2, 20, 30)]])
    assert.equal(intervalProblems([span(1, 10, 20), span(2, 20, 30)]).noOpen, true)
    assert.equal(intervalProblems([]).noOpen, true)
  })

  it('reports duplicate open revisions as such, not also as overlaps, and closes all but the latest where the next begins', () => {
    const spans = [span(1, 10, 20), span(2, 20, null), span(3, 25, 30), span(4, 30, null)]
    const problems = intervalProblems(spans)
    assert.deepEqual(problems.duplicateOpen.map(s => s.id), [2, 4])
    assert.deepEqual(problems.overlaps, [])
    assert.deepEqual(closingsFor(spans), [{id: 2, validTo: 25}])
    assert.deepEqual(closingsFor([span(1, 10, null), span(2, 10, null), span(3, 12, null)]), [{id: 1, validTo: 10}, {id: 2, validTo: 12}])
    assert.deepEqual(closingsFor([span(1, 10, 20), span(2, 20, null)]), [])
  })
})
