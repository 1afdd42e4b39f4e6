import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {humanBytes} from '../../cli/history-view.js'
import {accountInfo} from '../../engine/history/account-info.js'
import {isoOrNull, isoTime} from '../../engine/history/history-time.js'

export interface GetAccountInfoResult {
  account: string
  id: null | string
  domain: null | string
  cos: null | string
  names: string[]
  firstSeen: string
  deleted: boolean
  deletedAt: null | string
  legalHold: boolean
  certain: boolean
  uncertainReason: null | string
  uncertainSince: null | string
  lastScanAt: null | string
  /** For an uncertain account: "a SmartScan is required ..." */
  advice: null | string
  counts: {items: number; liveItems: number; deletedItems: number; revisions: number; folders: number; deletedFolders: number}
  blobs: {referenced: number; referencedBytes: number; stored: number; storedBytes: number}
  lastTransaction: {seq: null | number; time: null | string}
}

export default class GetAccountInfo extends BaseCommand {
  static override summary = 'Show what the backup holds for an account: identity, deletion, certainty, counts and sizes.'
  static override description
    = 'An uncertain account (after an Empty Folder, a gap in the transaction stream or the scanner having been off) '
      + 'needs a SmartScan before its history can be trusted; the reason says where the doubt started. Sizes count '
      + 'each content that any state of the account references once.'
  static override examples = ['<%= config.bin %> backup getAccountInfo alice@example.com', '<%= config.bin %> backup getAccountInfo alice@example.com --json']
  static override args = {
    account: Args.string({description: 'account address (or its server id)', required: true}),
  }

  async run(): Promise<GetAccountInfoResult> {
    const {args} = await this.parse(GetAccountInfo)
    const info = await accountInfo(await this.catalog(), args.account)
    const {account, certainty, counts, blobs} = info
    const result: GetAccountInfoResult = {
      account: account.name,
      id: account.remoteId,
      domain: account.domain,
      cos: account.cos,
      names: info.names,
      firstSeen: isoTime(account.firstSeen),
      deleted: account.deletedAt !== null,
      deletedAt: isoOrNull(account.deletedAt),
      legalHold: account.legalHold,
      certain: certainty.certain,
      uncertainReason: certainty.reason,
      uncertainSince: certainty.certain ? null : isoOrNull(certainty.since),
      lastScanAt: isoOrNull(certainty.lastScanAt),
      advice: certainty.advice,
      counts,
      blobs,
      lastTransaction: {seq: info.lastTransaction.seq, time: isoOrNull(info.lastTransaction.time)},
    }
    this.log(`account: ${result.account}${result.names.length > 1 ? ` (formerly ${result.names.filter(n => n !== result.account).join(', ')})` : ''}`)
    this.log(`id: ${result.id ?? '-'}`)
    this.log(`domain: ${result.domain ?? '-'}`)
    this.log(`cos: ${result.cos ?? '-'}`)
    this.log(`first seen: ${result.firstSeen}`)
    this.log(`deleted: ${result.deletedAt ?? 'no'}`)
    this.log(`legal hold: ${result.legalHold ? 'yes' : 'no'}`)
    this.log(result.certain ? 'certainty: certain' : `certainty: UNCERTAIN since ${result.uncertainSince} (${result.uncertainReason}): ${result.advice}`)
    this.log(`items: ${counts.items} (${counts.liveItems} live, ${counts.deletedItems} deleted), ${counts.revisions} revisions`)
    this.log(`folders: ${counts.folders} (${counts.deletedFolders} deleted)`)
    this.log(`content: ${blobs.referenced} blobs, ${humanBytes(blobs.referencedBytes)} referenced; ${blobs.stored} stored, ${humanBytes(blobs.storedBytes)} on disk`)
    this.log(`last transaction: ${result.lastTransaction.time ?? '-'}${result.lastTransaction.seq === null ? '' : ` (seq ${result.lastTransaction.seq})`}`)
    return result
  }
}
