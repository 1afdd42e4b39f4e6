#!/usr/bin/env node
// Generates the README's command reference (from oclif.manifest.json, i.e. the commands as built) and its
// attribute table (from the attribute registry), between marker comments. `--check` fails when the README is
// stale, so CI catches a command or attribute changed without its documentation.
import {readFileSync, writeFileSync} from 'node:fs'

const README = new URL('../README.md', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
const {ATTRIBUTES} = await import('../dist/engine/config/attributes.js')
const bin = 'carbonio'

function usageOf(id, command) {
  if (command.usage) {
    const usages = Array.isArray(command.usage) ? command.usage : [command.usage]
    return usages.map(u => `${bin} ${u}`)
  }

  const args = Object.entries(command.args ?? {}).map(([name, arg]) => (arg.required ? `<${name}>` : `[${name}]`))
  const params = Object.entries(command.flags ?? {})
  .filter(([name, flag]) => flag.type === 'option' && name !== 'json')
  .map(([name, flag]) => (flag.required ? `${name} ${flag.helpValue ?? '<value>'}` : `[${name} ${flag.helpValue ?? '<value>'}]`))
  return [[bin, id.split(':').join(' '), ...args, ...params].join(' ')]
}

function commandSection() {
  const ids = Object.keys(manifest.commands).sort((a, b) => a.localeCompare(b))
  const lines = []
  for (const id of ids) {
    const command = manifest.commands[id]
    lines.push(`### \`${bin} ${id.split(':').join(' ')}\``, '', command.summary ?? '', '')
    if (command.description) lines.push(command.description, '')
    lines.push('```', ...usageOf(id, command), '```', '')
    const args = Object.entries(command.args ?? {})
    const flags = Object.entries(command.flags ?? {}).filter(([name]) => name !== 'json')
    if (args.length + flags.length > 0) {
      for (const [name, arg] of args) lines.push(`- \`${name}\`${arg.required ? '' : ' (optional)'}: ${arg.description ?? ''}`)
      for (const [name, flag] of flags) {
        lines.push(`- \`${name} ${flag.helpValue ?? ''}\`${flag.required ? '' : ' (optional)'}: ${flag.description ?? flag.summary ?? ''}`)
      }

      lines.push('')
    }

    if (command.enableJsonFlag) lines.push('`--json` prints the result as JSON on stdout.', '')
    const examples = (command.examples ?? []).map(e => (typeof e === 'string' ? e : e.command).replace('<%= config.bin %>', bin))
    if (examples.length > 0) lines.push('```sh', ...examples, '```', '')
  }

  return lines.join('\n')
}

function attributeSection() {
  const rows = ATTRIBUTES.map(a => `| \`${a.name}\` | ${a.levels.join(', ')} | ${a.defaultValue === undefined ? '-' : `\`${a.defaultValue}\``} | ${a.type.expected} | ${a.description} |`)
  return ['| attribute | levels | default | value | meaning |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n')
}

function replaceBetween(text, name, body) {
  const start = `<!-- ${name} -->`
  const stop = `<!-- ${name}stop -->`
  const from = text.indexOf(start)
  const to = text.indexOf(stop)
  if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} ... ${stop} markers`)
  return `${text.slice(0, from + start.length)}\n${body}${text.slice(to)}`
}

const current = readFileSync(README, 'utf8')
const generated = replaceBetween(replaceBetween(current, 'commands', commandSection()), 'attributes', attributeSection())
if (process.argv.includes('--check')) {
  if (generated !== current) {
    console.error('README.md is stale: its command reference or attribute table differs from the code; run npm run readme')
    process.exit(1)
  }

  console.error('README.md command reference and attributes are up to date')
} else {
  writeFileSync(README, generated)
  console.error('README.md updated')
}
