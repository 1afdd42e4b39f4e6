/**
 * A duration in ms as "3d 4h", "12m 5s", "850 ms": the two largest units, as the CLI's reports and the daemon's log
 * lines both say a lag or an age.
 */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  const seconds = Math.floor(ms / 1000)
  const parts: Array<[number, string]> = [[Math.floor(seconds / 86_400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']]
  const first = parts.findIndex(([value]) => value > 0)
  return parts.slice(first, first + 2).map(([value, unit]) => `${value}${unit}`).join(' ')
}
