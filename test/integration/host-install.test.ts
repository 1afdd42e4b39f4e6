// The plugin inside a host `carbonio` CLI, the way a Carbonio administrator gets it: linked for development, then
// installed by plugin-plugins from the packed tarball (which fetches our dependencies from the registry and builds
// sqlite3's native addon). Slow (the install takes 1.5 to 2.5 minutes); CARBONIO_TEST_SKIP_INSTALL=1 skips that part
// for quick local runs. It needs `npm run build` first, which `npm test` does.
import assert from 'node:assert/strict'
import {
  existsSync, mkdirSync, readFileSync, realpathSync,
} from 'node:fs'
import path from 'node:path'

import {
  childEnv, createHostCli, describeRun, type HostCli, PROJECT_ROOT, runChild, type RunResult,
} from '../helpers/host-cli.js'

const PLUGIN_NAME = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {name: string}).name
const UUID = /^[\da-f]{8}(?:-[\da-f]{4}){3}-[\da-f]{12}$/i
// Fetching our dependencies and compiling sqlite3 takes about 1.5 minutes on a 2-core machine.
const INSTALL_TIMEOUT_MS = 10 * 60_000
const SLOW_INSTALL_MS = 3 * 60_000

function ok(result: RunResult): RunResult {
  if (result.code !== 0 || result.timedOut) assert.fail(describeRun(result))
  return result
}

function jsonOf<T = Record<string, unknown>>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    assert.fail(`stdout is not JSON:\n${describeRun(result)}`)
  }
}

/** The names in the TOPICS section of root help. */
function helpTopics(help: string): string[] {
  const section = /^TOPICS\n((?: {2}.*\n?)+)/m.exec(help)?.[1] ?? ''
  return [...section.matchAll(/^ {2}(\S+)/gm)].map(match => match[1])
}

/** The checks that prove the commands load and reach the catalog through the host. */
async function checkOperationsAndConfig(host: HostCli, env: NodeJS.ProcessEnv): Promise<void> {
  const operations = ok(await host.carbonio(['backup', 'getAllOperations', '--json'], {env}))
  assert.ok(Array.isArray(jsonOf(operations).operations), `no operations array:\n${describeRun(operations)}`)

  const retention = ok(await host.carbonio(['config', 'get', 'global', 'ZxBackup_DataRetentionDays', '--json'], {env}))
  assert.equal(jsonOf(retention).value, '30', describeRun(retention))
}

describe('the plugin inside a host carbonio CLI', function () {
  this.timeout(120_000)
  let host: HostCli

  before(() => {
    const missing = ['dist/commands/index.js', 'oclif.manifest.json'].filter(file => !existsSync(path.join(PROJECT_ROOT, file)))
    if (missing.length > 0) {
      throw new Error(`${missing.join(' and ')} missing: run \`npm run build\` first (\`npm test\` does)`)
    }

    host = createHostCli()
  })

  after(() => host?.cleanup())

  describe('linked with plugins link', () => {
    let env: NodeJS.ProcessEnv

    before(async () => {
      env = {CARBONIO_BACKUP_HOME: path.join(host.tmp, 'backup-home-linked')}
      // --no-install: by default plugins link runs `npm install` in the project, which would rewrite the
      // working tree's node_modules (and maybe package-lock.json) under whoever else is using it.
      ok(await host.carbonio(['plugins', 'link', '--no-install', PROJECT_ROOT]))
    })

    it('lists the backup and config topics in the host help', async () => {
      const help = ok(await host.carbonio(['--help']))
      const topics = helpTopics(help.stdout)
      assert.ok(topics.includes('backup') && topics.includes('config'), `topics ${topics.join(', ')}:\n${describeRun(help)}`)
    })

    it('runs backup getAllOperations --json and config get global', async () => {
      await checkOperationsAndConfig(host, env)
    })

    it('runs backup dopurge purgeDays 1 (lower-case verb, name-value pair) and prints the operation UUID first', async () => {
      const purge = ok(await host.carbonio(['backup', 'dopurge', 'purgeDays', '1'], {env}))
      const first = purge.stdout.split('\n')[0]
      assert.match(first, UUID, describeRun(purge))
    })

    it('is gone from the host after plugins unlink', async () => {
      ok(await host.carbonio(['plugins', 'unlink', PLUGIN_NAME]))
      const help = ok(await host.carbonio(['--help']))
      assert.ok(!helpTopics(help.stdout).includes('backup'), describeRun(help))
    })
  })

  describe('installed from the packed tarball with plugins install', () => {
    let tarball: string
    let install: RunResult | undefined

    before(async function () {
      if (process.env.CARBONIO_TEST_SKIP_INSTALL === '1') this.skip()
      const packDir = path.join(host.tmp, 'pack')
      mkdirSync(packDir)
      // --ignore-scripts: prepack would rebuild (rm -rf dist) in the working tree; we test what was built.
      const pack = ok(await runChild('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
        cwd: PROJECT_ROOT,
        env: childEnv(),
        timeoutMs: 120_000,
      }))
      const [packed] = jsonOf<Array<{filename: string}>>(pack)
      tarball = path.join(packDir, packed.filename)
    })

    it('packs the manifest and the compiled command index', async () => {
      const list = ok(await runChild('tar', ['-tzf', tarball], {env: childEnv()}))
      const files = new Set(list.stdout.split('\n'))
      for (const file of ['package/oclif.manifest.json', 'package/dist/commands/index.js', 'package/bin/run.js']) {
        assert.ok(files.has(file), `${file} is not in ${tarball}:\n${list.stdout}`)
      }
    })

    it('installs with plugins install file:<tarball>', async function () {
      this.timeout(INSTALL_TIMEOUT_MS + 30_000)
      install = await host.carbonio(['plugins', 'install', `file:${tarball}`], {timeoutMs: INSTALL_TIMEOUT_MS})
      ok(install)
      const seconds = (install.ms / 1000).toFixed(1)
      console.log(`      plugins install took ${seconds} s`)
      if (install.ms > SLOW_INSTALL_MS) console.warn(`      plugins install is slow: ${seconds} s (over 3 minutes)`)
      // plugin-plugins checks package.json "files" against what was installed; say so when some are missing.
      if (/did not produce all the expected files/.test(install.stderr)) {
        console.warn('      plugins install warned that files listed in package.json "files" are missing from the package')
      }

      const list = ok(await host.carbonio(['plugins']))
      assert.ok(list.stdout.split('\n').some(line => line.startsWith(`${PLUGIN_NAME} `)), describeRun(list))
    })

    it("builds sqlite3's native addon inside the installed plugin, and it loads", async function () {
      if (install?.code !== 0) this.skip()
      const pluginRoot = path.join(host.dataDir, 'node_modules', ...PLUGIN_NAME.split('/'))
      // Resolve sqlite3 the way the plugin does, from its own directory, and run a query with it.
      const probe = `
        import {createRequire} from 'node:module'
        const require = createRequire(${JSON.stringify(path.join(pluginRoot, 'package.json'))})
        const sqlite3 = require('sqlite3')
        const db = new sqlite3.Database(':memory:')
        db.get('select sqlite_version() as version', (error, row) => {
          if (error) throw error
          console.log(JSON.stringify({path: require.resolve('sqlite3'), version: row.version}))
          db.close()
        })`
      const loaded = ok(await runChild(process.execPath, ['--input-type=module', '-e', probe], {env: childEnv()}))
      const {path: resolved} = jsonOf<{path: string}>(loaded)
      assert.ok(
        realpathSync(resolved).startsWith(realpathSync(host.dataDir)),
        `sqlite3 resolved outside the installed plugin: ${resolved}`,
      )
      // The registry tarball of sqlite3 carries no binary: its presence means the install script ran.
      const addon = path.join(host.dataDir, 'node_modules', 'sqlite3', 'build', 'Release', 'node_sqlite3.node')
      assert.ok(existsSync(addon), `${addon} is missing: sqlite3's install script did not run`)
    })

    it('runs backup getAllOperations --json and config get global, on a new SQLite catalog', async function () {
      if (install?.code !== 0) this.skip()
      const home = path.join(host.tmp, 'backup-home-installed')
      await checkOperationsAndConfig(host, {CARBONIO_BACKUP_HOME: home})
      assert.ok(existsSync(path.join(home, 'catalog.sqlite')), `no catalog.sqlite in ${home}`)
    })
  })
})
