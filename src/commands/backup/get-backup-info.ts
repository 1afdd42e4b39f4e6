import {BaseCommand} from '../../cli/base-command.js'
import {humanBytes} from '../../cli/history-view.js'
import {booleanParam} from '../../cli/params.js'
import {backupInfo, type BackupInfo} from '../../engine/history/backup-info.js'
import {isoOrNull, isoTime} from '../../engine/history/history-time.js'
import {humanDuration} from '../../engine/human-duration.js'

/** BackupInfo with ISO times: the `--json` payload. */
export type GetBackupInfoResult = Omit<BackupInfo, 'ingestErrors' | 'lastTransaction' | 'uncertainAccounts'> & {
  lastTransaction: Omit<BackupInfo['lastTransaction'], 'checkpoints' | 'time'> & {
    time: null | string
    checkpoints: Array<Omit<BackupInfo['lastTransaction']['checkpoints'][number], 'updatedAt'> & {updatedAt: string}>
  }
  ingestErrors: {count: number; newest: Array<Omit<BackupInfo['ingestErrors']['newest'][number], 'recordedAt'> & {recordedAt: string}>}
  uncertainAccounts: Array<Omit<BackupInfo['uncertainAccounts'][number], 'since'> & {since: null | string}>
}

export default class GetBackupInfo extends BaseCommand {
  static override summary = 'Show the backup: where, how big, how deduplicated, how current, what went wrong and what needs a SmartScan.'
  static override description
    = 'The dedup ratio is defined in the output. The lag is the time since the last transaction applied: it also grows '
      + 'while the mail server is idle. The newest 20 ingest errors are listed with the redolog file and line. The blob '
      + 'store is reported as the catalog records it; countFiles true also walks its files and sums their size on disk '
      + '(seconds per 100k blobs), to compare the two.'
  static override examples = [
    '<%= config.bin %> backup getBackupInfo',
    '<%= config.bin %> backup getBackupInfo --json',
    '<%= config.bin %> backup getBackupInfo countFiles true',
  ]
  static override flags = {
    countFiles: booleanParam({description: 'also count the blob files on disk and their size (reads every file\'s size)'}),
  }

  async run(): Promise<GetBackupInfoResult> {
    const {flags} = await this.parse(GetBackupInfo)
    // Monitoring runs this often: the walk of every blob file is what took longest, and the catalog's own figures
    // of the same files answer without it.
    const info = await backupInfo(await this.catalog(), this.server, Date.now(), {countFiles: flags.countFiles ?? false})
    const result: GetBackupInfoResult = {
      ...info,
      lastTransaction: {
        ...info.lastTransaction,
        time: isoOrNull(info.lastTransaction.time),
        checkpoints: info.lastTransaction.checkpoints.map(c => ({...c, updatedAt: isoTime(c.updatedAt)})),
      },
      ingestErrors: {count: info.ingestErrors.count, newest: info.ingestErrors.newest.map(e => ({...e, recordedAt: isoTime(e.recordedAt)}))},
      uncertainAccounts: info.uncertainAccounts.map(a => ({...a, since: isoOrNull(a.since)})),
    }
    const {blobStore, counts, dedup, blobless, lastTransaction, ingestErrors} = result
    this.log(`backup path: ${result.backupPath}`)
    this.log(`catalog: ${result.catalog.dialect} at ${result.catalog.location}, metadata ${humanBytes(result.catalog.metadataBytes)}`)
    this.log(blobStore.files === null || blobStore.bytesOnDisk === null
      ? `blob store: ${blobStore.catalogStored} blobs stored, ${humanBytes(blobStore.catalogStoredBytes)} (as the catalog records them; countFiles true counts the files on disk)`
      : `blob store: ${blobStore.files} blobs, ${humanBytes(blobStore.bytesOnDisk)} on disk (catalog: ${blobStore.catalogStored} stored, ${humanBytes(blobStore.catalogStoredBytes)})`)
    this.log(`accounts: ${counts.accounts} (${counts.deletedAccounts} deleted), domains: ${counts.domains}, items: ${counts.items}, revisions: ${counts.revisions}, blobs: ${counts.blobs}`)
    this.log(`dedup ratio: ${dedup.ratio ?? '-'} (${dedup.definition})`)
    this.log(`dedup ratio per item version: ${dedup.perItemRatio ?? '-'} (${dedup.perItemDefinition})`)
    this.log(`compression: ${dedup.compressionRatio ?? '-'} (${humanBytes(dedup.storedRawBytes)} of content in ${humanBytes(dedup.storedBytes)}; both ratios include it)`)
    const without = `${blobless.currentWithoutContent} (${blobless.currentNotStored} not stored, ${blobless.currentContentMissing} missing on the AppServer)`
    this.log(`blobless mode: ${blobless.enabled ? 'on' : 'off'}; current items without content in the backup: ${without}`)
    // A SmartScan reads only changed folders: messages backed up while blobless mode was on (or whose blob fixBackup
    // found damaged) keep depending on the AppServer after it is off, until a deep SmartScan copies their content.
    if (!blobless.enabled && blobless.currentNotStored > 0) {
      this.log('  restores read their content from the AppServer: carbonio backup doSmartScan start deep true copies it into the backup')
    }

    this.log(lastTransaction.time === null
      ? 'last transaction: none applied yet'
      // The IMAP capture has no seq: "seq -" read as a missing or broken feed position.
      : `last transaction: ${lastTransaction.time}${lastTransaction.seq === null ? '' : ` (seq ${lastTransaction.seq})`}, lag ${humanDuration(lastTransaction.lagMs ?? 0)}`)
    this.log(`ingest errors: ${ingestErrors.count}${ingestErrors.count > ingestErrors.newest.length ? ` (newest ${ingestErrors.newest.length})` : ''}`)
    for (const e of ingestErrors.newest) this.log(`  ${e.where}${e.account ? ` ${e.account}` : ''}: ${e.reason}`)
    if (result.uncertainAccounts.length === 0) this.log('accounts needing a SmartScan: none')
    else this.log(`accounts needing a SmartScan: ${result.uncertainAccounts.length}`)
    for (const a of result.uncertainAccounts) this.log(`  ${a.account}: ${a.reason ?? 'uncertain'}`)
    return result
  }
}
