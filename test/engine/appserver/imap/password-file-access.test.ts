// The daemon runs as the user of its systemd unit (zextras), while an administrator often writes the password file
// as root: the backup must then say which user cannot read it and how to fix that, not "create it" or a bare EACCES.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {
  chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'

import {PROJECT_ROOT} from '../../../helpers/run-cli.js'

// Root reads any file whatever its mode: as root, readPassword runs as nobody in a child process.
const NOBODY = 65_534
const asRoot = process.getuid?.() === 0
const SETTINGS = path.join(PROJECT_ROOT, 'src', 'engine', 'appserver', 'imap', 'imap-settings.ts')

/** The error readPassword gives for the file, run as a user who may not read it. */
function readPasswordError(file: string): Promise<string> {
  const script = `import(${JSON.stringify(SETTINGS)}).then(m => m.readPassword({passwordFile: ${JSON.stringify(file)}}))`
    + '.then(() => console.log("read"), error => console.log(error.message))'
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'], ...(asRoot ? {uid: NOBODY, gid: NOBODY} : {}),
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  return new Promise(resolve => {
    child.once('close', () => resolve(out.trim()))
  })
}

describe('readPassword with a password file the backup user may not read', function () {
  this.timeout(30_000)
  let dir: string
  const user = asRoot ? 'nobody' : userInfo().username

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cb-password-access-'))
    chmodSync(dir, 0o755)
  })

  after(() => {
    chmodSync(path.join(dir, 'private'), 0o700)
    rmSync(dir, {recursive: true, force: true})
  })

  it('names the user it runs as and the chown that fixes it', async () => {
    const file = path.join(dir, 'imap-password')
    // Written the README's way (umask 077) by someone else (root); not ours to read.
    writeFileSync(file, 'secret-pw\n', {mode: 0o600})
    if (!asRoot) chmodSync(file, 0)
    const message = await readPasswordError(file)
    assert.equal(message, `backupAppServerPasswordFile ${file} cannot be read by ${user}, the user the backup runs as (EACCES): `
      + `make ${user} its owner (chown ${user} ${file}; chmod 600 ${file})`)
  })

  it('says the directory is closed to that user rather than that the file is missing', async () => {
    const closed = path.join(dir, 'private')
    mkdirSync(closed)
    const file = path.join(closed, 'imap-password')
    writeFileSync(file, 'secret-pw\n', {mode: 0o600})
    chmodSync(closed, asRoot ? 0o700 : 0)
    const message = await readPasswordError(file)
    assert.equal(message, `backupAppServerPasswordFile ${file} cannot be reached by ${user}, the user the backup runs as (EACCES): `
      + `let ${user} enter ${closed}`)
  })
})
