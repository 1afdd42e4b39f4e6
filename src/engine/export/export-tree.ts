import {readdir, readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../errors.js'
import {EXPORT_FORMAT_VERSION, MANIFEST_FILE} from './account-export.js'

/** One account's directory of a doExport tree, as its manifest names it. */
export interface ExportedAccountDirectory {
  /** The address the export names the account by (lower case). */
  account: string
  directory: string
  formatVersion: number
  pointInTime: string
}

/**
 * The accounts of a doExport tree: `<path>/<account>/manifest.json` for each, or `<path>` itself when it is one
 * account's directory. Anything that is not such a tree (no manifest, a manifest of another program or of a newer
 * format) is one line naming the file and what to give instead.
 */
export async function readExportTree(root: string): Promise<ExportedAccountDirectory[]> {
  const resolved = path.resolve(root)
  let info
  try {
    info = await stat(resolved)
  } catch (error) {
    const {code} = error as NodeJS.ErrnoException
    throw new UserError(code === 'ENOENT'
      ? `${resolved} does not exist: give the directory that carbonio backup doExport wrote`
      : `cannot read ${resolved}: ${(error as Error).message}`)
  }

  if (!info.isDirectory()) throw new UserError(`${resolved} is a file, not a doExport tree: give the directory that carbonio backup doExport wrote`)
  if (await isFile(path.join(resolved, MANIFEST_FILE))) return [await readAccountDirectory(resolved)]
  const accounts: ExportedAccountDirectory[] = []
  for (const entry of (await readdir(resolved, {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name))) {
    // Hidden entries are doExport's staging directories of an export that never completed.
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const directory = path.join(resolved, entry.name)
    if (await isFile(path.join(directory, MANIFEST_FILE))) accounts.push(await readAccountDirectory(directory))
  }

  if (accounts.length === 0) {
    throw new UserError(`${resolved} is not a doExport tree: it has no <account>/${MANIFEST_FILE}; give the directory that carbonio backup doExport wrote`)
  }

  return accounts
}

async function readAccountDirectory(directory: string): Promise<ExportedAccountDirectory> {
  const file = path.join(directory, MANIFEST_FILE)
  let manifest: {account?: unknown; formatVersion?: unknown; generator?: unknown; pointInTime?: {requested?: unknown}}
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new UserError(`${file} is not a readable doExport manifest: ${(error as Error).message.split('\n')[0]}`)
  }

  if (manifest?.generator !== 'carbonio-backup' || typeof manifest.account !== 'string' || typeof manifest.formatVersion !== 'number') {
    throw new UserError(`${file} is not a carbonio-backup doExport manifest (no generator, account or formatVersion): give the directory that carbonio backup doExport wrote`)
  }

  if (manifest.formatVersion > EXPORT_FORMAT_VERSION) {
    throw new UserError(`${file} has export format ${manifest.formatVersion}, newer than this carbonio-backup reads (${EXPORT_FORMAT_VERSION}): import it with a newer carbonio-backup`)
  }

  return {
    account: manifest.account.toLowerCase(),
    directory,
    formatVersion: manifest.formatVersion,
    pointInTime: typeof manifest.pointInTime?.requested === 'string' ? manifest.pointInTime.requested : 'unknown',
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}
