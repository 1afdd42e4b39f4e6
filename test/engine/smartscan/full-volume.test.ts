import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Catalog} from '../../../src/engine/catalog/catalog.js'
import type {ProgressEvent} from '../../../src/engine/progress.js'

import {openCatalog} from '../../../src/engine/catalog/open-catalog.js'
import {setAttribute} from '../../../src/engine/config/config-store.js'
import {smartScan} from '../../../src/engine/smartscan/smart-scan.js'
import {GLOBAL} from '../../helpers/imap-cli-bed.js'
import {fillVolume, mountSmallVolume, type SmallVolume} from '../../helpers/small-volume.js'
import {getTestDovecot, uniqueDomain} from '../../setup/dovecot-server.js'
import {message} from './imap-scenario.js'

/**
 * A SmartScan when the backup volume is full: every account would fail the same way, so the scan stops at the first
 * one with the line naming the backup path and the fix, instead of logging in to every other account and failing
 * each with a bare ENOSPC; once there is room, the next scan takes exactly what was missed. A small tmpfs is the
 * full volume: this needs root and a kernel that lets it mount one.
 */
describe('SmartScan on a full backup volume', function () {
  this.timeout(60_000)
  let small: SmallVolume | undefined
  let root: string
  let volume: string
  let catalog: Catalog | undefined

  before(function () {
    small = mountSmallVolume(this, 'cb-scan-full-', '2m')
    root = small.root
    volume = small.volume
  })

  after(async () => {
    await catalog?.close()
    small?.remove()
  })

  it('stops at the first account with one explained failure, and the next scan takes what was missed', async () => {
    const dovecot = await getTestDovecot()
    const domain = uniqueDomain()
    const users = ['a', 'b', 'c', 'd'].map(name => `${name}@${domain}`)
    for (const user of users) {
      await dovecot.addUser(user, 'pw')
      await dovecot.loadMessages(user, {INBOX: [{raw: message(`for ${user}`, randomBytes(96 * 1024).toString('base64'))}]})
    }

    const home = path.join(volume, 'backup')
    catalog = await openCatalog({env: {CARBONIO_BACKUP_HOME: home}})
    const passwordFile = path.join(root, 'imap-password')
    writeFileSync(passwordFile, `${dovecot.masterPassword}\n`, {mode: 0o600})
    for (const [name, value] of [
      ['backupAppServerUrl', dovecot.url],
      ['backupAppServerUser', dovecot.masterUser],
      ['backupAppServerPasswordFile', passwordFile],
      ['backupAccountsCommand', dovecot.directoryCommand(domain)],
    ]) await setAttribute(catalog, GLOBAL, name, value)

    const filler = path.join(volume, 'filler')
    fillVolume(filler)
    const events: ProgressEvent[] = []
    const scan = (progress: (event: ProgressEvent) => void) => smartScan({
      catalog: catalog!, uuid: 'test', server: 'mail1', signal: new AbortController().signal, progress,
    }, {concurrency: 1})
    await assert.rejects(scan(event => events.push(event)), (error: Error) => {
      assert.match(error.message, new RegExp(`^the (backup at ${home} is out of space|catalog ${home}/catalog.sqlite cannot grow)`))
      return true
    })
    const failed = events.filter(event => event.kind === 'warning' || (event.kind === 'step' && /not scanned/.test(event.message)))
    assert.deepEqual(failed, [], 'no account reported as failing on its own')

    rmSync(filler)
    const report = await scan(() => {})
    assert.deepEqual(report.failed, [])
    assert.equal(report.scanned, users.length)
    assert.equal(report.totals.created, users.length)
  })
})
