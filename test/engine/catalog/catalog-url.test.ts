import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'

// No server is needed: every URL here fails before or at connecting (port 1 on loopback refuses at once).
describe('CARBONIO_BACKUP_CATALOG_URL errors', () => {
  let home: string

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'carbonio-backup-test-url-'))
  })

  after(async () => {
    await rm(home, {force: true, recursive: true})
  })

  const open = (url: string) => openCatalog({env: {CARBONIO_BACKUP_CATALOG_URL: url, CARBONIO_BACKUP_HOME: home}})

  it('hides a password given as ?password= as well as one in the user part', async () => {
    await assert.rejects(open('postgres://backup@127.0.0.1:1/catalog?password=QuerySecret1'), (error: Error) => {
      assert.match(error.message, /^cannot open the catalog at postgres:\/\/backup@127\.0\.0\.1:1\/catalog\?password=\*\*\*: /)
      assert.doesNotMatch(error.message, /QuerySecret1/)
      return true
    })
    await assert.rejects(open('postgres://backup:UserSecret2@127.0.0.1:1/catalog'), (error: Error) => {
      assert.doesNotMatch(error.message, /UserSecret2/)
      return true
    })
  })

  it('refuses a URL that is not postgres:// in one line, without echoing it', async () => {
    for (const url of ['mysql://backup:MySecret3@db.example.com/catalog', 'db.example.com:MySecret3']) {
      await assert.rejects(open(url), (error: Error) => {
        assert.match(error.message, /^CARBONIO_BACKUP_CATALOG_URL is not a PostgreSQL URL .*use postgres:\/\//)
        assert.doesNotMatch(error.message, /MySecret3/)
        return true
      })
    }
  })
})
