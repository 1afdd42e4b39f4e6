import type {CatchUpTotals} from '../../engine/daemon/catch-up.js'

import {BaseCommand} from '../../cli/base-command.js'
import {booleanParam} from '../../cli/params.js'
import {BackupDaemon} from '../../engine/daemon/backup-daemon.js'
import {catchUpOnce} from '../../engine/daemon/catch-up.js'

export default class Daemon extends BaseCommand {
  static override summary = 'Run the backup module in the foreground: Realtime Scanner, scheduled SmartScan and Purge.'
  static override description
    = 'Meant for systemd (contrib/carbonio-backup.service). It follows the configuration while it runs: '
    + 'ZxBackup_RealTimeScanner FALSE stops the scanner within 2 s and TRUE starts it again. SIGTERM stops it '
    + 'cleanly after the current batch. With `once true` it applies what the feed holds now and exits (with an IMAP '
    + 'AppServer: one sync cycle of every account); it exits 1 when it rejected redolog lines, saying how many.'
  static override examples = ['<%= config.bin %> backup daemon', '<%= config.bin %> backup daemon once true']
  static override flags = {
    once: booleanParam({description: 'catch up with the feed and exit instead of following it'}),
  }

  async run(): Promise<CatchUpTotals | {stopped: true}> {
    const {flags} = await this.parse(Daemon)
    const catalog = await this.catalog()
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    try {
      if (flags.once) {
        let lastLine = 0
        const totals = await catchUpOnce(catalog, this.server, controller.signal, event => {
          if (event.kind === 'warning') {
            this.notice(`${event.account ? `${event.account}: ` : ''}${event.message}`)
            return
          }

          // One progress line every 2 s at most: enough to see it move without flooding a log.
          if (event.kind !== 'step' || Date.now() - lastLine < 2000) return
          lastLine = Date.now()
          this.notice(event.message)
        })
        if ('connector' in totals) {
          const leftOut = totals.notBackedUp > 0 ? `; ${totals.notBackedUp} not backed up (backupEnabled false)` : ''
          this.log(`synchronised ${totals.synchronised} of ${totals.accounts} accounts with the IMAP AppServer (${totals.foldersRead} folders read, ${totals.revisions} revisions)${leftOut}`)
          if (totals.failed.length > 0) {
            this.log(`PARTIAL: ${totals.failed.length} account(s) could not be synchronised (listed above); exit code 1`)
            process.exitCode = 1
          }
        } else {
          const where = totals.lastSeq === null ? 'no transaction applied yet' : `last seq ${totals.lastSeq}`
          const skipped = totals.notBackedUp > 0 ? `, ${totals.notBackedUp} skipped as their accounts are not backed up (backupEnabled false)` : ''
          this.log(`applied ${totals.transactions - totals.notBackedUp} transactions (${totals.revisions} revisions, ${totals.errors} errors)${skipped}, ${where}`)
          // Like a PARTIAL IMAP cycle: a script or cron job running once learns from the exit code that lines were lost
          // to the backup until someone looks (the daemon proper logs them and keeps following).
          if (totals.rejected > 0) {
            this.log(`REJECTED: ${totals.rejected} redolog line${totals.rejected === 1 ? ' was' : 's were'} not applied (listed above; backup getBackupInfo keeps them); exit code 1`)
            process.exitCode = 1
          }
        }

        return totals
      }

      const log = (line: string) => this.logToStderr(`${new Date().toISOString()} ${line}`)
      await new BackupDaemon(catalog, this.server, log).run(controller.signal)
      return {stopped: true}
    } finally {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
    }
  }
}
