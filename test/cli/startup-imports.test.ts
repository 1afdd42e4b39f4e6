// What every invocation of the CLI loads: the command index imports every command, so a package that one module of
// the engine imports at its top is loaded by `carbonio backup getAllOperations` as much as by a restore. These
// checks read the source's import statements (no build needed).
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {PROJECT_ROOT} from '../helpers/host-cli.js'

const SOURCE = path.join(PROJECT_ROOT, 'src')
// Import and export statements, with what they import; `import type` and `export type` load nothing.
const STATEMENT = /^(?:import|export)\s+(type\s+)?(?:([\w\s$*,{}]+?)\s+from\s+)?['"]([^'"]+)['"]/gm

interface ModuleGraph {
  /** Modules of ours reached, as paths relative to src/. */
  modules: Set<string>
  /** Each package loaded at start, with the first module of ours found importing it. */
  packages: Map<string, string>
}

/** Whether the statement's bindings are all types (`import {type A, type B} from`), which TypeScript drops. */
function typesOnly(bindings: string | undefined): boolean {
  if (bindings === undefined) return false
  const names = /^\{([^}]*)\}$/.exec(bindings.trim())?.[1]
  if (names === undefined) return false
  const parts = names.split(',').map(part => part.trim()).filter(Boolean)
  return parts.length > 0 && parts.every(part => part.startsWith('type '))
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The static value imports reachable from a module of src/ (dynamic import() is what defers a package). */
function valueImportGraph(entry: string): ModuleGraph {
  const graph: ModuleGraph = {modules: new Set([entry]), packages: new Map()}
  const queue = [entry]
  while (queue.length > 0) {
    const module = queue.shift()!
    const source = readFileSync(path.join(SOURCE, module), 'utf8')
    for (const [, typeKeyword, bindings, specifier] of source.matchAll(STATEMENT)) {
      if (typeKeyword || typesOnly(bindings)) continue
      if (specifier.startsWith('.')) {
        const target = path.normalize(path.join(path.dirname(module), specifier.replace(/\.js$/, '.ts')))
        assert.ok(existsSync(path.join(SOURCE, target)), `${module} imports ${specifier}, which is not in src/`)
        if (!graph.modules.has(target)) {
          graph.modules.add(target)
          queue.push(target)
        }
      } else if (!specifier.startsWith('node:') && !graph.packages.has(packageOf(specifier))) {
        graph.packages.set(packageOf(specifier), module)
      }
    }
  }

  return graph
}

describe('what the CLI loads at start', () => {
  const graph = valueImportGraph('commands/index.ts')

  it('reaches every command and the catalog from the command index', () => {
    assert.ok(graph.modules.has('commands/backup/do-restore-on-new-account.ts'), [...graph.modules].join('\n'))
    assert.ok(graph.modules.has('engine/catalog/open-catalog.ts'), [...graph.modules].join('\n'))
    for (const needed of ['@oclif/core', 'knex']) assert.ok(graph.packages.has(needed), `${needed} not found among ${[...graph.packages.keys()].join(', ')}`)
  })

  it('does not load imapflow or pg, which only the commands that reach the AppServer or a PostgreSQL catalog need', () => {
    for (const deferred of ['imapflow', 'pg']) {
      assert.ok(!graph.packages.has(deferred), `${graph.packages.get(deferred)} imports ${deferred} at its top: import it where it is used (see engine/appserver/imap/imapflow-modules.ts)`)
    }
  })

  it('keeps the engine free of CLI imports', () => {
    const engine = [...graph.modules].filter(module => module.startsWith('engine/'))
    for (const module of engine) {
      const source = readFileSync(path.join(SOURCE, module), 'utf8')
      for (const match of source.matchAll(STATEMENT)) {
        const specifier = match[3]
        const target = path.normalize(path.join(path.dirname(module), specifier))
        assert.ok(!/^(?:cli|commands|hooks)\//.test(target), `${module} imports ${specifier}: the engine must not depend on the CLI`)
      }
    }
  })
})
