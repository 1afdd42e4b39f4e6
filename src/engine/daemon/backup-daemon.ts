import type {Catalog} from '../catalog/catalog.js'

import {imapConfigured} from '../appserver/imap/imap-settings.js'
import {coherencyCheck} from '../coherency/coherency-check.js'
import {serverConfig} from '../config/config-store.js'
import {UserError} from '../errors.js'
import {purge} from '../purge/purge.js'
import {findScheduledJob} from '../schedule/scheduled-jobs.js'
import {sleep} from '../sleep.js'
import {smartScan} from '../smartscan/smart-scan.js'
import {failureMessage} from '../storage-errors.js'
import {CronService} from './cron-service.js'
import {
  claimOrRefuse, describeHolder, keepClaim, releaseClaim,
} from './daemon-claim.js'
import {daemonHolder} from './daemon-lock.js'
import {type DaemonLog, RealtimeService} from './realtime-service.js'
import {reportService, SERVICE_STALE_MS} from './services.js'

/** How often the daemon re-reads its configuration and heartbeats: well inside the 2 s a switch must take. */
export const RECONCILE_MS = 500

/**
 * The backup module in the foreground (for systemd): the Realtime Scanner and the scheduled SmartScan, purge and
 * Coherency Check, each following the configuration as it changes, each reporting its state to the catalog for
 * getServices.
 */
export class BackupDaemon {
  private readonly realtime: RealtimeService
  private readonly crons: CronService[]

  constructor(
    private readonly catalog: Catalog,
    private readonly server: string,
    private readonly log: DaemonLog,
  ) {
    this.realtime = new RealtimeService(catalog, server, log)
    this.crons = [
      new CronService(catalog, server, {
        name: 'purge-cron',
        job: findScheduledJob('purge'),
        work: () => purge,
      }, log),
      new CronService(catalog, server, {
        name: 'smartscan-cron',
        job: findScheduledJob('SmartScan'),
        // SmartScan compares the backup with the IMAP AppServer: without one (a redolog-only server) there is
        // nothing to compare with.
        work: config => (imapConfigured(config)
          ? context => smartScan(context)
          : {unavailable: 'SmartScan needs the IMAP AppServer (backupAppServerUrl); the redolog feed has no inventory to compare'}),
      }, log),
      new CronService(catalog, server, {
        name: 'coherency-cron',
        job: findScheduledJob('coherencyCheck'),
        // The whole backup, reporting only: quarantining files and repairing the catalog (fixBackup) stay an
        // administrator's decision after reading the findings.
        work: () => coherencyCheck,
      }, log),
    ]
  }

  /**
   * Runs until the signal fires (SIGTERM), then stops the scanner after its current batch. Refuses to start while
   * another daemon of the server is alive (two would fight over the feed's checkpoint), and stops if another one took
   * the server over meanwhile (this one stopped heartbeating: suspended, SIGSTOP).
   */
  async run(signal: AbortSignal): Promise<void> {
    await claimOrRefuse(this.catalog, this.server)

    this.log(`backup daemon started for server ${this.server} (pid ${process.pid})`)
    const lost = new AbortController()
    const running = AbortSignal.any([signal, lost.signal])
    const keeping = keepClaim(this.catalog, this.server, running, lost)
    // The loop runs every RECONCILE_MS: a failure that lasts (a full volume) is logged once, and once more when it
    // ends, not twice a second until someone frees space.
    let failing: string | undefined
    try {
      while (!running.aborted) {
        try {
          const config = await serverConfig(this.catalog, this.server)
          await this.realtime.reconcile(config)
          for (const cron of this.crons) cron.reconcile(config)
          if (!lost.signal.aborted) await this.heartbeat()
          if (failing !== undefined) this.log('daemon: the failure above is over')
          failing = undefined
        } catch (error) {
          const message = failureMessage(error, this.catalog.home)
          if (message !== failing) this.log(`daemon: ${message}`)
          failing = message
        }

        await sleep(RECONCILE_MS, running)
      }

      await keeping
      if (lost.signal.aborted) {
        const taker = await this.takerOfServer()
        this.log(`backup daemon stopping: another daemon took server ${this.server} over${taker} while this one was not heartbeating`)
        // The services rows are the other daemon's now: stop without reporting.
        await Promise.all(this.crons.map(cron => cron.stop()))
        await this.realtime.stop()
        throw new UserError(`another backup daemon took server ${this.server} over${taker} while this one (pid ${process.pid}) was not heartbeating for ${SERVICE_STALE_MS / 1000} s: stopped`)
      }

      this.log(`backup daemon stopping: finishing ${this.realtime.stopWaitsFor}`)
      // A scheduled run in progress is interrupted (or, still queued, removed) rather than cut off by the exit.
      await Promise.all(this.crons.map(cron => cron.stop()))
      await this.realtime.stop()
      // Keeps the moment the scanner stopped (offSince), which the next daemon reports as the start of the time off.
      const realtime = this.realtime.status
      await reportService(this.catalog, this.server, {name: 'backup-realtime', state: 'stopped', detail: {...realtime.detail, message: 'the daemon stopped'}})
      for (const cron of this.crons) await reportService(this.catalog, this.server, {...cron.status, state: 'stopped'})
    } finally {
      await keeping
      // After a clean stop (or a failure of this daemon) the next one may start at once; a lost claim is not ours.
      if (!lost.signal.aborted) await releaseClaim(this.catalog, this.server)
    }

    this.log('backup daemon stopped')
  }

  /** Who took the server over, for the line saying so ('' when the catalog cannot say). */
  private async takerOfServer(): Promise<string> {
    try {
      const other = await daemonHolder(this.catalog, this.server)
      return other ? ` (${describeHolder(other)})` : ''
    } catch {
      return ''
    }
  }

  private async heartbeat(): Promise<void> {
    const at = Date.now()
    await reportService(this.catalog, this.server, this.realtime.status, at)
    for (const cron of this.crons) await reportService(this.catalog, this.server, cron.status, at)
  }
}
