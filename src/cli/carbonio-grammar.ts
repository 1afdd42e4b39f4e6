import {closestName} from '../engine/config/closest-name.js'
import {UsageError} from '../engine/errors.js'

/** What a command declares, as far as the Carbonio grammar needs to know. */
export interface GrammarSpec {
  /** Optional parameters that take a value: written `name value`, `--name value` or `--name=value`. */
  params: readonly string[]
  /** Flags without a value (json, help): only in the `--name` form. */
  switches: readonly string[]
  /** How many positional (mandatory or optional) arguments the command takes. */
  maxPositional: number
}

/**
 * Turns Carbonio's `name value` pairs into `--name=value` so oclif can parse them, and refuses what the command
 * does not declare. oclif's `preparse` hook never runs for a plugin inside a host CLI, so this runs in the base
 * command's parse(). Names match case-insensitively (Carbonio docs write both purgeDays and purgedays).
 */
export function translateCarbonioArgv(argv: readonly string[], spec: GrammarSpec): string[] {
  const params = new Map(spec.params.map(name => [name.toLowerCase(), name]))
  const switches = new Map(spec.switches.map(name => [name.toLowerCase(), name]))
  const out: string[] = []
  let positional = 0
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') {
      out.push(...argv.slice(i))
      break
    }

    if (token.startsWith('--')) {
      const [rawName, ...valueParts] = token.slice(2).split('=')
      const name = params.get(rawName.toLowerCase()) ?? switches.get(rawName.toLowerCase())
      if (!name) throw unknownParameter(token, spec)
      if (params.has(rawName.toLowerCase())) {
        if (valueParts.length > 0) {
          out.push(`--${name}=${valueParts.join('=')}`)
        } else {
          out.push(`--${name}=${requireValue(argv, i, name)}`)
          i++
        }
      } else {
        if (valueParts.length > 0) throw new UsageError(`--${name} takes no value`)
        out.push(`--${name}`)
      }

      continue
    }

    if (token === '-h') {
      out.push(token)
      continue
    }

    const param = params.get(token.toLowerCase())
    if (param) {
      out.push(`--${param}=${requireValue(argv, i, param)}`)
      i++
      continue
    }

    positional++
    if (positional > spec.maxPositional) throw unknownParameter(token, spec)
    out.push(token)
  }

  return out
}

function requireValue(argv: readonly string[], index: number, name: string): string {
  if (index + 1 >= argv.length) throw new UsageError(`parameter ${name} needs a value: ${name} <value>`)
  return argv[index + 1]
}

function unknownParameter(token: string, spec: GrammarSpec): UsageError {
  const bare = token.replace(/^--/, '').split('=')[0]
  const suggestion = spec.params.length > 0 ? closestName(bare, spec.params, Math.max(2, Math.floor(bare.length / 3))) : undefined
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : ''
  return new UsageError(`unexpected parameter '${token}'${hint}`)
}
