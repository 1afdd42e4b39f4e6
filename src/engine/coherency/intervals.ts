/** The validity interval of one revision row: [validFrom, validTo), validTo null while it is the current state. */
export interface RevisionSpan {
  id: number
  validFrom: number
  validTo: null | number
}

export interface IntervalProblems {
  /** validTo before validFrom. */
  inverted: RevisionSpan[]
  /** Every open revision, when there is more than one. */
  duplicateOpen: RevisionSpan[]
  /** Consecutive revisions where the first is still valid when the second begins. */
  overlaps: Array<[RevisionSpan, RevisionSpan]>
  /** No open revision at all (or no revision). */
  noOpen: boolean
}

/**
 * Checks the revisions of one item or folder, ordered by (validFrom, id), against what the scanner writes: each
 * new state closes the previous one exactly where it begins (equal times are allowed: two changes in the same
 * millisecond), so intervals never overlap and exactly the last one is open. A gap is not checked: the scanner
 * cannot make one either, and a gap loses no state.
 */
export function intervalProblems(spans: readonly RevisionSpan[]): IntervalProblems {
  const open = spans.filter(span => span.validTo === null)
  const overlaps: Array<[RevisionSpan, RevisionSpan]> = []
  for (let i = 0; i + 1 < spans.length; i++) {
    const [current, next] = [spans[i], spans[i + 1]]
    // With several open revisions the duplicates are their own finding (and closing them is the repair).
    const stillOpen = current.validTo === null && open.length === 1
    if (stillOpen || (current.validTo !== null && current.validTo > next.validFrom)) overlaps.push([current, next])
  }

  return {
    inverted: spans.filter(span => span.validTo !== null && span.validTo < span.validFrom),
    duplicateOpen: open.length > 1 ? open : [],
    overlaps,
    noOpen: open.length === 0,
  }
}

/**
 * The repair of duplicate open revisions: each open one but the latest, closed where the revision after it
 * begins (spans ordered by validFrom, id), which is what the scanner would have written.
 */
export function closingsFor(spans: readonly RevisionSpan[]): Array<{id: number; validTo: number}> {
  const open = spans.flatMap((span, index) => (span.validTo === null ? [index] : []))
  return open.slice(0, -1).map(index => ({id: spans[index].id, validTo: spans[index + 1].validFrom}))
}
