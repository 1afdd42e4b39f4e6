import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {
  chmodSync, mkdirSync, mkdtempSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {
  type CliResult, startCli, startCliAs, waitFor,
} from '../helpers/run-cli.js'

// Root writes any file whatever its mode: as root, the backup is handed to nobody and the CLI runs as nobody.
const NOBODY = 65_534
const asRoot = process.getuid?.() === 0

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return waitFor(asRoot ? startCliAs({uid: NOBODY, gid: NOBODY}, args, env) : startCli(args, env))
}

/**
 * A catalog, or a backup directory, whose mode keeps the user running the backup from writing it (a restored copy,
 * a chmod gone wrong): the line must say so and how to fix it, not print a bare EACCES or send the administrator
 * to remount a volume that is not read-only.
 */
describe('a backup path the user running the backup may not write', function () {
  this.timeout(30_000)
  let root: string
  let home: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cb-catalog-mode-'))
    home = path.join(root, 'backup')
    mkdirSync(home, {mode: 0o700})
    if (asRoot) assert.equal(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, root]).status, 0)
    // The CLI's own data directory (oclif) must be the user's: root's would be refused to nobody.
    env = {CARBONIO_BACKUP_HOME: home, CARBONIO_BACKUP_SERVER: 'mail1', HOME: root}
    const created = await runCli(['backup', 'getBackupInfo'], env)
    assert.equal(created.code, 0, created.stderr)
  })

  after(() => {
    chmodSync(home, 0o700)
    rmSync(root, {recursive: true, force: true})
  })

  const said = (what: string) => new RegExp([
    `^Error: the backup at ${home} cannot be written by this user \\(uid \\d+\\) \\(${what}\\): `,
    String.raw`give the user that runs the backup its ownership \(chown -R\), directories 0700 and files 0600; then run again`,
  ].join(''))

  it('a catalog file without write permission', async () => {
    const catalog = path.join(home, 'catalog.sqlite')
    chmodSync(catalog, 0o400)
    try {
      const result = await runCli(['backup', 'getBackupInfo'], env)
      assert.equal(result.code, 1)
      assert.match(result.stderr, said(`EACCES on ${catalog}`))
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    } finally {
      chmodSync(catalog, 0o600)
    }
  })

  it('a backup directory without write permission, on a volume that is not read-only', async () => {
    chmodSync(home, 0o500)
    try {
      const result = await runCli(['backup', 'getBackupInfo'], env)
      assert.equal(result.code, 1)
      assert.doesNotMatch(result.stderr, /read-only volume/)
      assert.match(result.stderr, said('SQLITE_READONLY'))
    } finally {
      chmodSync(home, 0o700)
    }
  })
})
