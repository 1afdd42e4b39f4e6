import assert from 'node:assert/strict'
import {
  mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ensurePrivateDirectory} from '../../src/engine/backup-home.js'
import {makeDirectory} from '../../src/engine/make-directory.js'

describe('makeDirectory', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'carbonio-mkdir-'))
  })

  afterEach(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  it('creates the missing levels with the mode, passing over those that exist', () => {
    const deep = path.join(dir, 'a', 'b', 'c')
    makeDirectory(deep, 0o700)
    makeDirectory(path.join(deep, 'd'), 0o700)
    makeDirectory(deep, 0o700)
    assert.equal(statSync(path.join(deep, 'd')).mode & 0o777, 0o700)
    assert.equal(statSync(path.join(dir, 'a')).mode & 0o777, 0o700)
  })

  it('fails at once under /proc, where Node\'s recursive mkdir loops for ever', () => {
    // Node 20: mkdirSync('/proc/x', {recursive: true}) never returns; a backup path there hung the CLI.
    assert.throws(() => makeDirectory('/proc/carbonio-backup-test/export', 0o700), {code: 'ENOENT'})
    assert.throws(() => ensurePrivateDirectory('/proc/carbonio-backup-test'), /cannot create backup directory \/proc\/carbonio-backup-test \(ENOENT\)/)
  })

  it('refuses a file or a broken link where a directory should be, as the recursive form does', () => {
    writeFileSync(path.join(dir, 'file'), 'x')
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'broken'))
    assert.throws(() => makeDirectory(path.join(dir, 'file'), 0o700), {code: 'EEXIST'})
    assert.throws(() => makeDirectory(path.join(dir, 'file', 'x'), 0o700), {code: 'ENOTDIR'})
    assert.throws(() => makeDirectory(path.join(dir, 'broken'), 0o700), {code: 'ENOENT'})
    assert.throws(() => makeDirectory(path.join(dir, 'broken', 'x'), 0o700), {code: 'ENOENT'})
  })
})
