import assert from 'node:assert/strict'

import {setAttribute} from '../../../src/engine/config/config-store.js'
import {BackupDaemon} from '../../../src/engine/daemon/backup-daemon.js'
import {eventually} from '../../helpers/run-cli.js'
import {
  imapScenario, message, type Scenario, SERVER,
} from './imap-scenario.js'

const GLOBAL = {level: 'global' as const, target: ''}

describe('smartscan-cron', () => {
  let s: Scenario

  afterEach(async () => {
    await s.cleanup()
  })

  it('runs SmartScan on its schedule as a scheduled doSmartScan operation', async () => {
    s = await imapScenario('sqlite')
    const kim = await s.user('kim')
    await s.dovecot.loadMessages(kim, {INBOX: [{raw: message('scheduled one')}, {raw: message('scheduled two')}]})
    await setAttribute(s.t.catalog, GLOBAL, 'ZxBackup_RealTimeScanner', 'FALSE')
    await setAttribute(s.t.catalog, GLOBAL, 'backupSmartScanScheduler', '*/1 * * * * *')
    await setAttribute(s.t.catalog, GLOBAL, 'backupSmartScanSchedulerEnabled', 'true')
    const log: string[] = []
    const daemon = new BackupDaemon(s.t.catalog, SERVER, line => log.push(line))
    const controller = new AbortController()
    const running = daemon.run(controller.signal)
    try {
      const run = await eventually('a scheduled doSmartScan', async () => s.t.catalog.db('operations')
      .where({type: 'doSmartScan', state: 'completed'})
      .first())
      assert.equal(JSON.parse(run.parameters).scheduled, true)
      assert.equal(JSON.parse(run.result).scanned, 1)
    } finally {
      controller.abort()
      await running
    }

    assert.deepEqual((await s.liveItems(kim)).map(i => i.metadata.subject).sort(), ['scheduled one', 'scheduled two'])
    assert.ok(log.some(line => /smartscan-cron: doSmartScan .* ended Successful/.test(line)), log.join('\n'))
  })
})
