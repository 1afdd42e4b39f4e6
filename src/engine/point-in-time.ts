/**
 * A moment as Carbonio commands name it: an exact time, or the keywords `first` (the oldest state kept),
 * `last` (the newest) and `all` (every state, for history reads).
 */
export type PointInTime = {kind: 'all'} | {kind: 'first'} | {kind: 'last'} | {at: number; kind: 'at'}

export function describePointInTime(point: PointInTime): string {
  return point.kind === 'at' ? new Date(point.at).toISOString() : point.kind
}
