import type {OperationView} from '../../cli/operation-view.js'
import type {CoherencyReport} from '../../engine/coherency/coherency-check.js'
import type {Finding} from '../../engine/coherency/findings.js'
import type {AccountRef} from '../../engine/coherency/revision-pass.js'

import {humanBytes} from '../../cli/history-view.js'
import {OperationCommand} from '../../cli/operation-command.js'
import {booleanParam, listParam} from '../../cli/params.js'
import {coherencyCheck} from '../../engine/coherency/coherency-check.js'
import {FINDING_KINDS, KIND_TITLES} from '../../engine/coherency/findings.js'
import {findAccount} from '../../engine/history/account-lookup.js'

export default class DoCoherencyCheck extends OperationCommand {
  static override summary = 'Check that the backup is sound: every blob read back and hashed, every revision and its intervals.'
  static override description
    = 'Reports missing blobs, corrupt blobs (content that does not gunzip or does not hash to its name), orphaned '
      + 'files and blob rows, stale temporary files, revisions that reference nothing, and broken validity intervals '
      + '(inverted, overlapping, several or no open revision), each with its account and item. With accounts, only '
      + 'their revisions and the blobs these reference are checked. fixBackup true never deletes: it moves bad and '
      + 'orphaned files into <backup path>/quarantine/<time>/ with a manifest, marks blobs whose file is missing or '
      + 'corrupt as not stored (naming the items that lost content), removes unreferenced blob rows and closes '
      + 'duplicate open revisions. Prints the operation UUID first; exit codes: 0 Successful (whatever was found), '
      + '1 Failed, 2 Stopped, 3 Removed, 4 Interrupted.'
  static override examples = [
    '<%= config.bin %> backup doCoherencyCheck',
    '<%= config.bin %> backup doCoherencyCheck accounts alice@example.com,bob@example.com',
    '<%= config.bin %> backup doCoherencyCheck fixBackup true',
  ]
  static override flags = {
    accounts: listParam({description: 'check only these accounts (default: the whole backup)'}),
    fixBackup: booleanParam({description: 'quarantine bad and orphaned files and repair the catalog (never deletes)'}),
  }

  async run(): Promise<OperationView> {
    const {flags} = await this.parse(DoCoherencyCheck)
    // Checked before the operation is queued: a mistyped account is a usage mistake, not a failed operation.
    const accounts: AccountRef[] = []
    for (const name of flags.accounts ?? []) {
      const account = await findAccount(await this.catalog(), name)
      if (!accounts.some(a => a.key === account.key)) accounts.push({key: account.key, name: account.name})
    }

    const fixBackup = flags.fixBackup ?? false
    const view = await this.runAsOperation(
      'doCoherencyCheck',
      {accounts: accounts.length > 0 ? accounts.map(a => a.name) : null, fixBackup},
      context => coherencyCheck(context, {accounts, fixBackup}),
    )
    const report = view.result as CoherencyReport | null
    if (report) for (const line of describeReport(report)) this.log(line)
    return view
  }
}

function describeReport(report: CoherencyReport): string[] {
  const {checked} = report
  const lines: string[] = []
  for (const kind of FINDING_KINDS) {
    const list = report.findings[kind]
    if (list.count === 0) continue
    lines.push(`${KIND_TITLES[kind]}: ${list.count}`)
    for (const finding of list.first) lines.push(`  ${describeFinding(finding)}`)
    if (list.count > list.first.length) lines.push(`  ... and ${list.count - list.first.length} more (all are in --json counts)`)
  }

  for (const note of report.notChecked) lines.push(`not checked: ${note}`)
  const scope = report.accounts ? report.accounts.join(', ') : `${checked.accounts} account(s)`
  lines.push(`checked ${scope}: ${checked.items} items (${checked.itemRevisions} revisions), ${checked.folders} folders `
    + `(${checked.folderRevisions} revisions), ${checked.blobsVerified} blobs read back (${humanBytes(checked.contentBytes)} of content, `
    + `${humanBytes(checked.storedBytes)} stored)${report.accounts ? '' : `, ${checked.files} entries under items/`}`)
  if (checked.awaitingPurge > 0) lines.push(`${checked.awaitingPurge} blob(s) no longer referenced are left by a purge that stopped before removing them: the next doPurge removes them`)
  if (checked.recentNotJudged > 0) lines.push(`${checked.recentNotJudged} file(s) or blob row(s) are too recent to judge (a scanner may be adding them): the next check looks at them`)
  const {fixed} = report
  if (fixed) {
    lines.push(`fixBackup: ${fixed.filesQuarantined} file(s) quarantined${fixed.quarantine ? ` in ${fixed.quarantine}` : ''}, `
      + `${fixed.blobsMarkedNotStored} blob(s) marked not stored, ${fixed.blobsMarkedStored} marked stored, ${fixed.blobRowsRemoved} blob row(s) removed, `
      + `${fixed.blobRowsAdded} added, ${fixed.revisionsClosed} revision(s) closed${fixed.failures > 0 ? `, ${fixed.failures} repair(s) failed` : ''}`)
    const lost = fixed.itemsThatLostContent
    if (lost.count > 0) {
      lines.push(`items whose content is no longer in the backup: ${lost.count}`)
      for (const item of lost.first) lines.push(`  ${item.account} item ${item.item} (blob ${item.digest})`)
    }
  }

  if (report.coherent) lines.push('the backup is coherent')
  else if (fixed) lines.push(`${report.problems} problem(s) found; fixBackup repaired what can be repaired (see each [fixed: ...]): run doCoherencyCheck again to confirm`)
  else lines.push(`the backup is NOT coherent: ${report.problems} problem(s); fixBackup true repairs what can be repaired`)
  return lines
}

function describeFinding(finding: Finding): string {
  const where = [
    finding.account,
    finding.item === undefined ? undefined : `item ${finding.item}`,
    finding.folder === undefined ? undefined : `folder ${finding.folder}`,
    finding.path,
  ].filter(Boolean).join(' ')
  const more = (finding.referencedItems ?? 0) > (finding.references?.length ?? 0) ? ', ...' : ''
  const also = (finding.references ?? []).slice(1).map(r => `${r.account} item ${r.item}`)
  const others = also.length > 0 ? ` (also ${also.join(', ')}${more})` : ''
  return `${where}${others}: ${finding.detail}${finding.fix ? ` [fixed: ${finding.fix}]` : ''}`
}
