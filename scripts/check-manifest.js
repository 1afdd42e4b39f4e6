#!/usr/bin/env node
// Fails the build when oclif.manifest.json does not describe the compiled commands exactly: a stale manifest
// hides new commands and shows removed ones in a host CLI, which loads the manifest instead of the code.
import {readFileSync} from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
let manifest
try {
  manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
} catch {
  console.error('oclif.manifest.json is missing: run npm run build')
  process.exit(1)
}

const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
const {COMMANDS} = await import('../dist/commands/index.js')
const problems = []
if (manifest.version !== pkg.version) problems.push(`manifest is for version ${manifest.version}, package is ${pkg.version}`)
const inManifest = Object.keys(manifest.commands).sort()
const inCode = Object.keys(COMMANDS).sort()
for (const id of inCode) if (!inManifest.includes(id)) problems.push(`command ${id} is missing from the manifest`)
for (const id of inManifest) if (!inCode.includes(id)) problems.push(`manifest lists ${id}, which no longer exists`)
for (const id of inCode.filter(id => inManifest.includes(id))) {
  const code = COMMANDS[id]
  const entry = manifest.commands[id]
  // enableJsonFlag adds --json to the manifest only.
  const manifestFlags = Object.keys(entry.flags ?? {}).filter(name => name !== 'json')
  if (!same(Object.keys(code.flags ?? {}), manifestFlags)) problems.push(`${id}: flags differ from the manifest`)
  if (!same(Object.keys(code.args ?? {}), Object.keys(entry.args ?? {}))) problems.push(`${id}: args differ from the manifest`)
  if (!same(code.hiddenAliases ?? [], entry.hiddenAliases ?? [])) problems.push(`${id}: aliases differ from the manifest`)
}

if (problems.length > 0) {
  console.error(`oclif.manifest.json is stale (run npm run build):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}

console.error(`oclif.manifest.json matches the ${inCode.length} compiled commands`)
