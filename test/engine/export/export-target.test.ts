import assert from 'node:assert/strict'
import {
  existsSync, mkdtempSync, readdirSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {checkTarget} from '../../../src/engine/export/export-plan.js'

describe('doExport target check', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'carbonio-backup-test-target-'))
  })

  afterEach(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  // It passed the check and failed once the operation ran: a Failed operation saying only "ENOENT ... mkdir".
  it('refuses, before any operation, a new directory where none can be made (/proc)', async () => {
    await assert.rejects(checkTarget('/proc/carbonio-export', false), (error: Error) => {
      assert.equal(error.message, 'cannot use export target /proc/carbonio-export: /proc takes no new directory '
        + '(ENOENT: a virtual file system such as /proc or /sys?): give a path on an ordinary volume')
      return true
    })
  })

  it('accepts a new directory under missing parents, and leaves nothing behind for checking', async () => {
    await checkTarget(path.join(dir, 'a', 'b', 'export'), false)
    assert.deepEqual(readdirSync(dir), [])
    assert.equal(existsSync(path.join(dir, 'a')), false)
  })
})
