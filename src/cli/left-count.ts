/**
 * ", 3 left" after a restore's counts when a full account stopped it (the messages the same command, run again once
 * the quota is raised, still has to append); nothing for a restore that got to its end, whose line stays as it was.
 */
export function left(count: number | undefined): string {
  return count ? `, ${count} left` : ''
}
