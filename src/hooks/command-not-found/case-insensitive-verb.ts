import {Errors, type Hook, type Interfaces} from '@oclif/core'

import {closestName} from '../../engine/config/closest-name.js'

const OWN_TOPICS = new Set(['backup', 'config'])

/**
 * Carbonio's docs spell verbs in several cases (doSmartScan, doSmartscan, dosmartscan). When no command matches,
 * find ours case-insensitively and run it with the rest of the words as its arguments. Runs only on a miss, so
 * it costs nothing on the host CLI's other commands. A hook that returns counts as handled, so every miss it
 * cannot resolve ends in the same error oclif itself would raise.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const words = options.id.split(':')
  const shown = words.join(' ')
  if (!OWN_TOPICS.has(words[0]?.toLowerCase())) throw notOurs(options.config, `command ${shown} not found`)
  const ids = options.config.commandIDs
  const byLower = new Map(ids.map(id => [id.toLowerCase(), id]))
  for (let {length} = words; length > 1; length--) {
    const match = byLower.get(words.slice(0, length).join(':').toLowerCase())
    if (match) return options.config.runCommand(match, [...words.slice(length), ...(options.argv ?? [])])
  }

  const topic = words[0].toLowerCase()
  const verbs = ids.filter(id => id.startsWith(`${topic}:`) && id.toLowerCase() !== id).map(id => id.split(':').slice(1).join(' '))
  const suggestion = closestName(words[1] ?? '', verbs)
  throw new Errors.CLIError(
    `command ${shown} not found${suggestion ? `: did you mean '${topic} ${suggestion}'?` : ''} (see ${options.config.bin} ${topic} --help)`,
    {exit: 2},
  )
}

export default hook

/**
 * A miss outside our topics. oclif rethrows at once a hook error that carries an exit code, which would hide the
 * answer of a host's own not-found hook (@oclif/plugin-not-found): when another plugin answers too, step aside.
 */
function notOurs(config: Interfaces.Config, message: string): Errors.CLIError {
  const error = new Errors.CLIError(message)
  const answering = [...config.plugins.values()].filter(plugin => (plugin.hooks.command_not_found?.length ?? 0) > 0)
  if (answering.length > 1) delete (error.oclif as {exit?: number}).exit
  return error
}
