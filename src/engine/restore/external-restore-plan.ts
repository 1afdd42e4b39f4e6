import path from 'node:path'

import {UserError} from '../errors.js'
import {type ExportedAccountDirectory, readExportTree} from '../export/export-tree.js'

export interface ExternalRestoreRequest {
  /** A doExport tree, or one account's directory of it. */
  path: string
  /** Only these accounts (and those of `domains`); none of either means every account of the export. */
  accounts?: readonly string[]
  domains?: readonly string[]
}

export interface ExternalRestorePlan {
  path: string
  accounts: ExportedAccountDirectory[]
}

const NAMED = 5

/**
 * Checks a doExternalRestore request before anything is queued or written: the path is a doExport tree, and each
 * account and domain asked for is in it. `accounts` and `domains` add up: `accounts a@x domains y` imports a@x and
 * every account of y.
 */
export async function planExternalRestore(request: ExternalRestoreRequest): Promise<ExternalRestorePlan> {
  const all = await readExportTree(request.path)
  const root = path.resolve(request.path)
  const accounts = (request.accounts ?? []).map(a => a.trim().toLowerCase()).filter(Boolean)
  const domains = (request.domains ?? []).map(d => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean)
  if (accounts.length === 0 && domains.length === 0) return {path: root, accounts: all}
  const names = all.map(a => a.account)
  const held = `it holds ${names.slice(0, NAMED).join(', ')}${names.length > NAMED ? ` and ${names.length - NAMED} more` : ''}`
  for (const account of accounts) {
    if (!names.includes(account)) throw new UserError(`account ${account} is not in the export at ${request.path}: ${held}`)
  }

  for (const domain of domains) {
    if (!names.some(name => domainOf(name) === domain)) throw new UserError(`no account of domain ${domain} is in the export at ${request.path}: ${held}`)
  }

  return {
    path: root,
    accounts: all.filter(a => accounts.includes(a.account) || domains.includes(domainOf(a.account))),
  }
}

function domainOf(account: string): string {
  return account.split('@')[1] ?? ''
}
