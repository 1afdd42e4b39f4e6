import type {Command, Config} from '@oclif/core'

/** One line of usage in Carbonio's own style: positional args, then optional `name value` pairs. */
export function usageLine(command: Command.Class, config: Config): string {
  const id = (command.id ?? '').split(':').join(' ')
  const args = Object.entries(command.args ?? {}).map(([name, arg]) => (arg.required ? `<${name}>` : `[${name}]`))
  const params = Object.entries(command.flags ?? {})
  .filter(([name, flag]) => flag.type === 'option' && name !== 'json')
  .map(([name, flag]) => (flag.required ? `${name} <value>` : `[${name} <value>]`))
  return `Usage: ${config.bin} ${[id, ...args, ...params].join(' ')}`
}
