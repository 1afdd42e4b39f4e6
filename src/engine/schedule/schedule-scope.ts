import {
  checkTarget, type Level, LEVELS, parseLevel, type Scope,
} from '../config/levels.js'
import {UsageError} from '../errors.js'

/**
 * The scope a schedule is read or set at: `global`, or `server [<host>]` where the host defaults to this server.
 * Schedules are run by each server's daemon, so domain, cos and account levels mean nothing for them.
 */
export function scheduleScope(levelWord: string, host: string | undefined, localServer: string): Scope {
  // config's own message would offer domain, cos and account, which a schedule then refuses.
  if (!LEVELS.includes(levelWord.toLowerCase() as Level)) throw new UsageError(`unknown level '${levelWord}': use global or server`)
  const level = parseLevel(levelWord)
  if (level === 'global') {
    if (host !== undefined) throw new UsageError(`the global level takes no host ('${host}'): use server ${host} to set one server`)
    return {level, target: ''}
  }

  if (level !== 'server') throw new UsageError(`schedules live at global or server level, not ${level}: each server's daemon runs them`)
  const target = (host ?? localServer).toLowerCase()
  checkTarget(level, target)
  return {level, target}
}
