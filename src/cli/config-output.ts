import type {ResolvedValue} from '../engine/config/config-store.js'

import {describeScope} from '../engine/config/levels.js'

/** "value (inherited from global)" or "value (set at server mail1)": where a value comes from, in words. */
export function describeResolved(value: ResolvedValue): string {
  const shown = value.value ?? '(not set)'
  if (value.source === null) return `${value.attribute}: ${shown}`
  if (value.source === 'default') return `${value.attribute}: ${shown} (default)`
  const where = describeScope(value.source)
  return `${value.attribute}: ${shown} (${value.inherited ? 'inherited from' : 'set at'} ${where})`
}
