import assert from 'node:assert/strict'

import {
  dumpScope, getAttribute, setAttribute, unsetAttribute,
} from '../../../src/engine/config/config-store.js'
import {UsageError} from '../../../src/engine/errors.js'
import {DIALECTS, openTestCatalog, type TestCatalog} from '../../helpers/test-catalog.js'

const GLOBAL = {level: 'global', target: ''} as const
const MAIL1 = {level: 'server', target: 'mail1.example.com'} as const
const MAIL2 = {level: 'server', target: 'mail2.example.com'} as const

for (const dialect of DIALECTS) {
  describe(`config inheritance (${dialect})`, () => {
    let t: TestCatalog

    beforeEach(async () => {
      t = await openTestCatalog(dialect)
    })

    afterEach(async () => {
      await t.cleanup()
    })

    it('falls back to the default, marked inherited from the default', async () => {
      const value = await getAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays')
      assert.deepEqual(
        {value: value.value, inherited: value.inherited, source: value.source},
        {value: '30', inherited: true, source: 'default'},
      )
    })

    it('lets a server inherit from global and override it', async () => {
      await setAttribute(t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'false')
      const inherited = await getAttribute(t.catalog, MAIL1, 'ZxBackup_RealTimeScanner')
      assert.equal(inherited.value, 'FALSE')
      assert.equal(inherited.inherited, true)
      assert.deepEqual(inherited.source, GLOBAL)

      await setAttribute(t.catalog, MAIL1, 'ZxBackup_RealTimeScanner', 'TRUE')
      const own = await getAttribute(t.catalog, MAIL1, 'ZxBackup_RealTimeScanner')
      assert.equal(own.value, 'TRUE')
      assert.equal(own.inherited, false)
      assert.deepEqual(own.source, MAIL1)
      // Another server still sees global.
      assert.equal((await getAttribute(t.catalog, MAIL2, 'ZxBackup_RealTimeScanner')).value, 'FALSE')
      // The server name is matched case-insensitively, as host names are.
      const upper = await getAttribute(t.catalog, {level: 'server', target: 'MAIL1.example.com'}, 'ZxBackup_RealTimeScanner')
      assert.equal(upper.value, 'TRUE')
    })

    it('replaces a value on a second set and inherits again after unset', async () => {
      await setAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays', '10')
      await setAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays', '20')
      assert.equal((await getAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays')).value, '20')
      assert.equal(await unsetAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays'), true)
      assert.equal(await unsetAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays'), false)
      assert.equal((await getAttribute(t.catalog, MAIL1, 'ZxBackup_DataRetentionDays')).source, 'default')
    })

    it('lets an account override its COS, which overrides its domain and global', async () => {
      const account = {level: 'account', target: 'alice@example.com'} as const
      await t.catalog.db('accounts').insert({name: 'alice@example.com', cos_name: 'gold', first_seen: Date.now()})
      assert.equal((await getAttribute(t.catalog, account, 'backupEnabled')).source, 'default')
      await setAttribute(t.catalog, {level: 'cos', target: 'gold'}, 'backupEnabled', 'false')
      const fromCos = await getAttribute(t.catalog, account, 'backupEnabled')
      assert.equal(fromCos.value, 'false')
      assert.deepEqual(fromCos.source, {level: 'cos', target: 'gold'})
      await setAttribute(t.catalog, account, 'backupEnabled', 'true')
      const own = await getAttribute(t.catalog, account, 'backupEnabled')
      assert.equal(own.value, 'true')
      assert.equal(own.inherited, false)
    })

    it('refuses a level the attribute does not live at, an unknown attribute and a bad value, storing nothing', async () => {
      await assert.rejects(setAttribute(t.catalog, MAIL1, 'backupEnabled', 'false'), /cannot be set at server level: set it at cos or account level/)
      await assert.rejects(setAttribute(t.catalog, GLOBAL, 'backupBlobless', 'true'), /did you mean backupBloblessMode/)
      await assert.rejects(setAttribute(t.catalog, GLOBAL, 'backupCompressionLevel', '11'), UsageError)
      await assert.rejects(setAttribute(t.catalog, {level: 'account', target: 'nobody'}, 'backupEnabled', 'true'), /not an account address/)
      assert.equal(Number((await t.catalog.db('config').count({n: '*'}))[0].n), 0)
    })

    it('announces the blobless prerequisite when the mode is switched on', async () => {
      const on = await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'true')
      assert.match(on.notice ?? '', /local or centralised volumes/)
      const off = await setAttribute(t.catalog, GLOBAL, 'backupBloblessMode', 'false')
      assert.equal(off.notice, undefined)
    })

    it('dumps every known attribute with its source', async () => {
      await setAttribute(t.catalog, GLOBAL, 'backupCompressionLevel', '9')
      const dump = await dumpScope(t.catalog, MAIL1)
      const compression = dump.find(v => v.attribute === 'backupCompressionLevel')
      assert.equal(compression?.value, '9')
      assert.equal(compression?.inherited, true)
      assert.equal(dump.find(v => v.attribute === 'backupAppServerUrl')?.value, null)
      assert.ok(dump.length >= 13)
    })
  })
}
