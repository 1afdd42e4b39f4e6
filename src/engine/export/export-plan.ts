import {randomBytes} from 'node:crypto'
import {
  mkdir, readdir, rmdir, stat,
} from 'node:fs/promises'
import path from 'node:path'

import type {Catalog} from '../catalog/catalog.js'
import type {PointInTime} from '../point-in-time.js'

import {UsageError, UserError} from '../errors.js'
import {
  absenceReason, type AccountEntry, accountNameAt, existedAt, findAccount,
} from '../history/account-lookup.js'
import {availableAccounts} from '../history/available-accounts.js'
import {describeHistoryTime, type HistoryTime} from '../history/history-time.js'
import {describePathFailure} from '../path-failure.js'
import {describePointInTime} from '../point-in-time.js'

export interface ExportRequest {
  /** The directory to export into. */
  path: string
  /** Addresses (or server ids); none means every account that existed at that time. */
  accounts?: readonly string[]
  point: PointInTime
  /** Export into a non-empty directory, replacing the directories of the exported accounts in it. */
  force?: boolean
}

export interface PlannedAccount {
  account: AccountEntry
  /** The address at the exported time: the name of its directory and of the account in the manifest. */
  label: string
  at: HistoryTime
}

export interface ExportPlan {
  target: string
  requested: string
  force: boolean
  accounts: PlannedAccount[]
}

/**
 * Checks an export request before anything is written or queued: the target directory, the time, and that each
 * account existed then. An explicitly named account that did not exist at that time is an error (with the time
 * it can be exported at); without names, the accounts that existed then are exported.
 */
export async function planExport(catalog: Catalog, request: ExportRequest): Promise<ExportPlan> {
  if (request.point.kind === 'all') throw new UsageError('doExport exports one moment: give date <time>, last or first, not all')
  const target = path.resolve(request.path)
  await checkTarget(target, request.force ?? false)
  const exactTime = request.point.kind === 'at' ? request.point.at : undefined
  const accounts: PlannedAccount[] = []
  const seen = new Set<number>()
  if (request.accounts && request.accounts.length > 0) {
    for (const name of request.accounts) {
      const account = await findAccount(catalog, name, exactTime)
      if (seen.has(account.key)) continue
      seen.add(account.key)
      const at = timeFor(request.point, account)
      if (!existedAt(account, at)) throw new UserError(`cannot export ${name} at ${describeHistoryTime(at)}: ${absenceReason(account, at)}`)
      accounts.push({account, label: await accountNameAt(catalog, account, at), at})
    }
  } else {
    const candidates = await availableAccounts(catalog, exactTime)
    for (const candidate of candidates) {
      const at = timeFor(request.point, candidate)
      // Without a time, only the accounts that exist now; `first` takes every account at its own beginning.
      if (!existedAt(candidate, at)) continue
      accounts.push({account: candidate, label: exactTime === undefined ? candidate.name : candidate.nameAt, at})
    }

    if (accounts.length === 0) {
      throw new UserError(`no account to export at ${describePointInTime(request.point)}: carbonio backup getAvailableAccounts lists the accounts in the backup`)
    }
  }

  return {
    target, requested: describePointInTime(request.point), force: request.force ?? false, accounts,
  }
}

function timeFor(point: PointInTime, account: AccountEntry): HistoryTime {
  switch (point.kind) {
  case 'at': {
    return point.at
  }

  case 'first': {
    return account.firstSeen
  }

  default: {
    return 'last'
  }
  }
}

/** Refuses a target that is a file, or a non-empty directory without `force true`. */
export async function checkTarget(target: string, force: boolean): Promise<void> {
  let info
  try {
    info = await stat(target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      await checkCreatable(target)
      return
    }

    throw new UserError(`cannot use export target ${target}: ${describePathFailure(error, target)}`)
  }

  if (!info.isDirectory()) throw new UserError(`export target ${target} is a file, not a directory: choose a new or empty directory`)
  if (!force && (await readdir(target)).length > 0) {
    throw new UserError(`export target ${target} is not empty: choose a new or empty directory, or add force true to replace the exported accounts' directories in it`)
  }
}

/**
 * A target that does not exist yet must be creatable where it would be: its nearest existing directory takes a new
 * directory. Tried with a probe removed at once: permissions alone do not tell (root may write anywhere, yet /proc or
 * /sys take no new directory), and the export would otherwise fail only once it runs, as a Failed operation.
 */
async function checkCreatable(target: string): Promise<void> {
  let ancestor = path.dirname(path.resolve(target))
  while (!(await stat(ancestor).catch(() => {})) && ancestor !== path.dirname(ancestor)) ancestor = path.dirname(ancestor)
  const probe = path.join(ancestor, `.carbonio-export-probe-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(probe)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    const reason = code === 'ENOENT'
      ? `${ancestor} takes no new directory (ENOENT: a virtual file system such as /proc or /sys?): give a path on an ordinary volume`
      : describePathFailure(error, path.join(ancestor, path.basename(target)))
    throw new UserError(`cannot use export target ${target}: ${reason}`)
  }

  await rmdir(probe)
}
