import {UsageError} from '../errors.js'

/** Where an attribute value can live. Lower levels override higher ones: server over global, account over cos. */
export const LEVELS = ['global', 'server', 'domain', 'cos', 'account'] as const
export type Level = (typeof LEVELS)[number]

export interface Scope {
  level: Level
  /** '' at global level; otherwise the server name, domain, cos name or account address. */
  target: string
}

export function parseLevel(word: string): Level {
  const level = LEVELS.find(l => l === word.toLowerCase())
  if (!level) throw new UsageError(`unknown level '${word}': use one of ${LEVELS.join(', ')}`)
  return level
}

export function describeScope(scope: Scope): string {
  return scope.level === 'global' ? 'global' : `${scope.level} ${scope.target}`
}

/** Checks the shape of a target so a typo such as a missing '@' is caught before anything is stored. */
export function checkTarget(level: Level, target: string): void {
  if (level === 'global') return
  if (!target) throw new UsageError(`the ${level} level needs a ${level} name: config get ${level} <${level}> <attribute>`)
  if (level === 'account' && !/^[^@\s]+@[^@\s]+$/.test(target)) {
    throw new UsageError(`'${target}' is not an account address: write it as user@domain`)
  }

  if ((level === 'domain' || level === 'server') && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(target)) {
    throw new UsageError(`'${target}' is not a valid ${level} name: use letters, digits, dots and dashes`)
  }
}
