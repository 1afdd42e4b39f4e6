/** Edit distance, case-insensitive: used to suggest the attribute or command the user probably meant. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  let previous = Array.from({length: t.length + 1}, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const current = [i]
    for (let j = 1; j <= t.length; j++) {
      const substitution = previous[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution))
    }

    previous = current
  }

  return previous[t.length]
}

/**
 * The candidate nearest to `word`, preferring one that contains it (users often type a fragment).
 * With `maxDistance`, a candidate farther than that is no suggestion at all.
 */
export function closestName(
  word: string,
  candidates: readonly string[],
  maxDistance = Number.POSITIVE_INFINITY,
): string | undefined {
  const lower = word.toLowerCase()
  const containing = candidates.filter(c => c.toLowerCase().includes(lower) && lower.length >= 4)
  const pool = containing.length > 0 ? containing : candidates
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of pool) {
    const distance = editDistance(word, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }

  return bestDistance <= maxDistance ? best : undefined
}
