import assert from 'node:assert/strict'
import {
  chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {readPassword} from '../../../../src/engine/appserver/imap/imap-settings.js'
import {findAttribute} from '../../../../src/engine/config/attributes.js'
import {UserError} from '../../../../src/engine/errors.js'

// Only root can give a file to someone else.
const NOBODY = 65_534
const asRoot = process.getuid?.() === 0

/**
 * A 0600 password file that belongs to another user (written as oneself and chowned, or left by another account):
 * that user reads the admin password of every mailbox. Root, who reads any file, took it without a word.
 */
describe('an AppServer password file that belongs to another user', () => {
  let dir: string
  let home: string
  let saved: string | undefined

  before(function () {
    if (!asRoot) this.skip()
    dir = mkdtempSync(path.join(tmpdir(), 'cb-pw-owner-'))
    home = path.join(dir, 'backup')
    mkdirSync(home, {mode: 0o700})
    saved = process.env.CARBONIO_BACKUP_HOME
    process.env.CARBONIO_BACKUP_HOME = home
  })

  after(() => {
    if (!asRoot) return
    if (saved === undefined) delete process.env.CARBONIO_BACKUP_HOME
    else process.env.CARBONIO_BACKUP_HOME = saved
    rmSync(dir, {recursive: true, force: true})
  })

  function passwordFile(name: string, uid: number): string {
    const file = path.join(dir, name)
    writeFileSync(file, 'secret\n', {mode: 0o600})
    chownSync(file, uid, uid)
    return file
  }

  it('is refused by config set and at each use, naming the owner and the fix', async () => {
    const file = passwordFile('foreign', NOBODY)
    const said = new RegExp(`${file} belongs to uid ${NOBODY}, not to the user that runs the backup: chown`)
    assert.throws(() => findAttribute('backupAppServerPasswordFile').type.normalize(file), said)
    await assert.rejects(readPassword({passwordFile: file}), (error: Error) => error instanceof UserError && said.test(error.message))
  })

  it('is taken from the owner of the backup path (root running a command on the backup of zextras)', async () => {
    chownSync(home, NOBODY, NOBODY)
    try {
      const file = passwordFile('service', NOBODY)
      assert.equal(findAttribute('backupAppServerPasswordFile').type.normalize(file), file)
      assert.equal(await readPassword({passwordFile: file}), 'secret')
    } finally {
      chownSync(home, 0, 0)
    }
  })
})
