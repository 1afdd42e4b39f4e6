import assert from 'node:assert/strict'

import {UserError} from '../../src/engine/errors.js'
import {failureMessage, storageFailure} from '../../src/engine/storage-errors.js'

function failure(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code}: what the driver said`), {code, ...extra})
}

describe('storage failures in one line', () => {
  const home = '/srv/backup'

  it('names the backup path, the cause and the fix of a full, read-only or failing volume', () => {
    const full = storageFailure(failure('ENOSPC', {path: '/srv/backup/items/ab/.tmp-x'}), home)
    assert.ok(full instanceof UserError)
    assert.equal(full.message, [
      'the backup at /srv/backup is out of space (ENOSPC on /srv/backup/items/ab/.tmp-x): free space on its volume, or move',
      ' the backup to a larger one (and point CARBONIO_BACKUP_HOME there); then run again: nothing half-written was kept, and',
      ' the work resumes where it stopped',
    ].join(''))
    assert.match(storageFailure(failure('EDQUOT'), home)!.message, /^the backup at \/srv\/backup is out of space \(EDQUOT\)/)
    assert.match(storageFailure(failure('SQLITE_FULL'), home)!.message, /^the catalog \/srv\/backup\/catalog\.sqlite cannot grow: its volume is full \(SQLITE_FULL\): free space/)
    assert.match(storageFailure(failure('EROFS'), home)!.message, /read-only volume \(EROFS\): remount it read-write/)
    assert.match(storageFailure(failure('SQLITE_READONLY'), home)!.message, /read-only volume \(SQLITE_READONLY\)/)
    assert.match(storageFailure(failure('53100'), home)!.message, /^the PostgreSQL server of the catalog is out of disk space/)
    for (const code of ['ENOSPC', 'EROFS', 'SQLITE_FULL', '53100']) assert.doesNotMatch(storageFailure(failure(code), home)!.message, /\n/)
  })

  it('tells an I/O error of a volume with room left from a full one', () => {
    // The root file system of the test machine has room: an I/O error there is the disk's, not the space's.
    assert.match(storageFailure(failure('SQLITE_IOERR'), '/')!.message, /failed to read or write \(SQLITE_IOERR\): check the disk/)
  })

  it('leaves every other failure as it was', () => {
    assert.equal(storageFailure(failure('ECONNREFUSED'), home), undefined)
    assert.equal(storageFailure(new Error('plain'), home), undefined)
    assert.equal(storageFailure(failure('constructor'), home), undefined)
    assert.equal(failureMessage(new Error('plain'), home), 'plain')
    assert.match(failureMessage(failure('ENOSPC'), home), /out of space/)
  })
})
