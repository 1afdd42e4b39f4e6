import {parseLevel, type Scope} from '../engine/config/levels.js'
import {UsageError} from '../engine/errors.js'

/**
 * Splits `<level> [target] <rest...>`: global takes no target, every other level does. `restCount` is how many
 * words must follow (attribute, or attribute and value). `usage` is the command's two forms, global first: the error
 * shows the one of the level given, as the other form asks a global user for a target that global does not take.
 */
export function splitScope(words: Array<string | undefined>, restCount: number, usage: readonly string[]): {scope: Scope; rest: string[]} {
  const present = words.filter((w): w is string => w !== undefined)
  const level = parseLevel(present[0] ?? '')
  const targetCount = level === 'global' ? 0 : 1
  const expected = 1 + targetCount + restCount
  if (present.length !== expected) {
    const problem = present.length < expected ? 'missing' : 'too many'
    throw new UsageError(`${problem} parameters for the ${level} level: ${usage[level === 'global' ? 0 : 1]}`)
  }

  return {scope: {level, target: targetCount ? present[1] : ''}, rest: present.slice(1 + targetCount)}
}
