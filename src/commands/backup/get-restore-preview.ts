import {Args} from '@oclif/core'

import type {PreviewMessage} from '../../engine/restore/preview-matching.js'

import {BaseCommand} from '../../cli/base-command.js'
import {parsePointInTime} from '../../cli/param-values.js'
import {textParam} from '../../cli/params.js'
import {previewRestore, type RestorePreview} from '../../engine/restore/restore-preview.js'
import {describeRenamed} from '../../engine/restore/separator-in-name.js'

/** Lines shown per list; --json has them all. */
const SHOWN = 20

export default class GetRestorePreview extends BaseCommand {
  static override summary = 'Show what a restore of an account at a time would change in the live mailbox, without writing anything.'
  static override description
    = 'Compares the account as the backup had it at that time with the live mailbox now (the account itself, or '
      + 'destination), read over IMAP in read-only mode, matching messages as a restore does (by content: '
      + 'live messages that share a Message-ID and size with one of the backup are read). Lists what a restore would add (folders and messages missing live), what it cannot add (a '
      + 'message whose content is not in the backup, in blobless mode, and is gone from the AppServer), what differs (the same '
      + 'message with other flags or keywords, which a restore leaves as it is) and what is live but was not there '
      + 'then (which a restore leaves alone). Text shows counts and the first lines of each list; --json lists '
      + 'everything. Nothing is written on the server or in the backup.'
  static override examples = [
    '<%= config.bin %> backup getRestorePreview alice@example.com "26/11/2026 09:30:00"',
    '<%= config.bin %> backup getRestorePreview alice@example.com last destination alice.restored@example.com --json',
  ]
  static override args = {
    account: Args.string({description: 'the account in the backup', required: true}),
    date: Args.string({description: '"dd/MM/yyyy HH:mm:ss", ISO 8601 or last', required: true}),
  }
  static override flags = {
    destination: textParam({description: 'the live account to compare with (default: the account itself)'}),
  }

  async run(): Promise<RestorePreview> {
    const {args, flags} = await this.parse(GetRestorePreview)
    const point = parsePointInTime(args.date, 'date', {keywords: ['last']})
    const preview = await previewRestore(await this.catalog(), this.server, {account: args.account, point, destination: flags.destination})
    this.log(`restore preview of ${preview.account} at ${preview.pointInTime} into ${preview.destination}: backup ${preview.backup.messages} messages `
      + `in ${preview.backup.folders} folders, live ${preview.live.messages} messages in ${preview.live.folders} folders`)
    if (preview.uncertain) this.log(`WARNING ${preview.uncertain}`)
    for (const renamed of preview.renamedFolders) this.log(`WARNING ${describeRenamed(renamed)}`)
    if (!preview.destinationExists) this.log(`${preview.destination} does not exist on the AppServer: a restore creates it with backupProvisioningCommand, or fails without one`)
    else if (preview.live.messages > 0) this.log(`${preview.destination} is not empty: doRestoreOnNewAccount needs force true to restore into it`)
    if (preview.backup.otherItems > 0) this.log(`${preview.backup.otherItems} items that are not mail (contacts, appointments, ...) are not compared: IMAP carries mail only`)

    this.log(`would add: ${preview.add.folders.length} folders, ${preview.add.messages.length} messages`)
    this.list(preview.add.folders.map(folder => `  + folder ${folder}`))
    this.list(preview.add.messages.map(m => `  + ${describe(m)}`))
    if (preview.cannotAdd.length > 0) {
      this.log(`cannot add: ${preview.cannotAdd.length} messages (their content is nowhere to read: a restore lists them as not restored)`)
      this.list(preview.cannotAdd.map(m => `  ! ${describe(m)}: ${m.reason}`))
    }

    this.log(`differs: ${preview.differ.length} messages (same message, other flags or keywords: a restore leaves them as they are)`)
    this.list(preview.differ.map(m => `  ~ ${describe(m)} live [${m.liveFlags.join(' ')}]`))
    this.log(`live only: ${preview.liveOnly.folders.length} folders, ${preview.liveOnly.messages.length} messages (not there at that time: a restore leaves them alone)`)
    this.list(preview.liveOnly.folders.map(folder => `  - folder ${folder}`))
    this.list(preview.liveOnly.messages.map(m => `  - ${describe(m)}`))
    this.log(`unchanged: ${preview.unchanged} messages`)
    return preview
  }

  private list(lines: string[]): void {
    for (const line of lines.slice(0, SHOWN)) this.log(line)
    if (lines.length > SHOWN) this.log(`  ... and ${lines.length - SHOWN} more (--json lists them all)`)
  }
}

function describe(message: PreviewMessage): string {
  const id = message.item === null ? `uid ${message.uid}` : `item ${message.item}`
  return `${message.folderPath}: ${message.subject === null ? '(no subject)' : JSON.stringify(message.subject)} (${id}) [${message.flags.join(' ')}]`
}
