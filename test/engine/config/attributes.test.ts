import assert from 'node:assert/strict'
import {
  chmodSync, mkdtempSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ATTRIBUTES, findAttribute} from '../../../src/engine/config/attributes.js'
import {closestName} from '../../../src/engine/config/closest-name.js'
import {UsageError} from '../../../src/engine/errors.js'

function normalize(name: string, raw: string): string {
  return findAttribute(name).type.normalize(raw)
}

describe('config attributes', () => {
  it('finds attributes case-insensitively and refuses unknown ones with the closest name', () => {
    assert.equal(findAttribute('backupbloblessmode').name, 'backupBloblessMode')
    assert.throws(() => findAttribute('backupBloblesMode'), (error: unknown) =>
      error instanceof UsageError && error.exitCode === 2 && /did you mean backupBloblessMode\?/.test(error.message))
    assert.throws(() => findAttribute('RealTimeScanner'), /did you mean ZxBackup_RealTimeScanner\?/)
  })

  it('normalizes booleans in the style Carbonio prints them', () => {
    assert.equal(normalize('ZxBackup_RealTimeScanner', 'false'), 'FALSE')
    assert.equal(normalize('ZxBackup_RealTimeScanner', 'True'), 'TRUE')
    assert.equal(normalize('backupBloblessMode', 'TRUE'), 'true')
    assert.throws(() => normalize('backupBloblessMode', 'yes'), /'yes' is not a boolean/)
  })

  it('takes days from 0 (infinite) upwards and compression 0..9', () => {
    assert.equal(normalize('ZxBackup_DataRetentionDays', '0'), '0')
    assert.equal(normalize('backupAccountsRetentionDays', '045'), '45')
    assert.throws(() => normalize('ZxBackup_DataRetentionDays', '-1'), /not a whole number/)
    assert.throws(() => normalize('ZxBackup_DataRetentionDays', '30d'), /not a whole number/)
    assert.throws(() => normalize('backupCompressionLevel', '10'), /outside 0..9/)
  })

  it('validates cron patterns with the scheduler library', () => {
    assert.equal(normalize('backupPurgeScheduler', '0  4 * *   6'), '0 4 * * 6')
    assert.throws(() => normalize('backupSmartScanScheduler', '0 4 * *'), /five fields/)
    assert.throws(() => normalize('backupSmartScanScheduler', '0 25 * * *'), /not a valid cron pattern/)
  })

  it('takes IMAP URLs without credentials', () => {
    assert.equal(normalize('backupAppServerUrl', 'imap://127.0.0.1:1143/'), 'imap://127.0.0.1:1143')
    assert.equal(normalize('backupAppServerUrl', 'imaps://mail.example.com'), 'imaps://mail.example.com')
    assert.throws(() => normalize('backupAppServerUrl', 'http://x'), /not imap: or imaps:/)
    assert.throws(() => normalize('backupAppServerUrl', 'imap://admin:secret@x'), /credentials do not belong/)
  })

  it('accepts a password file only when others cannot read it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-attr-'))
    const file = path.join(dir, 'password')
    writeFileSync(file, 'secret\n')
    chmodSync(file, 0o644)
    assert.throws(() => normalize('backupAppServerPasswordFile', file), /readable by others \(run chmod 600/)
    chmodSync(file, 0o600)
    assert.equal(normalize('backupAppServerPasswordFile', file), file)
    assert.throws(() => normalize('backupAppServerPasswordFile', path.join(dir, 'missing')), /does not exist/)
    assert.throws(() => normalize('backupAppServerPasswordFile', 'relative'), /not an absolute path/)
    rmSync(dir, {recursive: true, force: true})
  })

  it('accepts as redolog path only an existing directory, naming the directory a file sits in', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-attr-'))
    const file = path.join(dir, 'redo-00000000000000000001.log')
    writeFileSync(file, '')
    assert.equal(normalize('backupRedologPath', dir), dir)
    assert.throws(() => normalize('backupRedologPath', path.join(dir, 'missing')), new RegExp(`${path.join(dir, 'missing')} does not exist \\(create or mount it first\\)`))
    assert.throws(() => normalize('backupRedologPath', file), new RegExp(`${file} is not a directory \\(for a file in it, give ${dir}\\)`))
    assert.throws(() => normalize('backupRedologPath', 'relative'), /not an absolute path/)
    rmSync(dir, {recursive: true, force: true})
  })

  it('has a default for every retention and schedule attribute the issue names', () => {
    const defaults = Object.fromEntries(ATTRIBUTES.map(a => [a.name, a.defaultValue]))
    assert.equal(defaults.ZxBackup_DataRetentionDays, '30')
    assert.equal(defaults.backupAccountsRetentionDays, '30')
    assert.equal(defaults.backupSmartScanScheduler, '0 4 * * *')
    assert.equal(defaults.backupPurgeScheduler, '0 4 * * 6')
  })

  it('suggests by containment and edit distance', () => {
    assert.equal(closestName('blobless', ['backupBloblessMode', 'backupEnabled']), 'backupBloblessMode')
    assert.equal(closestName('doPurg', ['doPurge', 'monitor']), 'doPurge')
    assert.equal(closestName('qqqqqq', ['doPurge'], 2), undefined)
  })
})
