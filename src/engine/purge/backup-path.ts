import {statSync} from 'node:fs'
import path from 'node:path'

import type {Catalog} from '../catalog/catalog.js'

import {CATALOG_FILE} from '../catalog/catalog.js'
import {migrateToLatest} from '../catalog/migrations.js'
import {openCatalog} from '../catalog/open-catalog.js'
import {UserError} from '../errors.js'

/**
 * The catalog of the backup path given to doPurge with backup_path: undefined when it is the server's own backup
 * path (purged through its usual catalog, SQLite or PostgreSQL). Any other directory must be a backup path, with
 * its own SQLite catalog: refused otherwise, before anything is created in it.
 */
export async function openOtherBackupPath(given: string, current: Catalog): Promise<Catalog | undefined> {
  const dir = path.resolve(given)
  if (dir === path.resolve(current.home)) return undefined
  let isDirectory = false
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch {
    throw new UserError(`backup_path ${dir} does not exist: give the directory that holds ${CATALOG_FILE} and items/`)
  }

  if (!isDirectory) throw new UserError(`backup_path ${dir} is not a directory: give the directory that holds ${CATALOG_FILE} and items/`)
  let hasCatalog = false
  try {
    hasCatalog = statSync(path.join(dir, CATALOG_FILE)).isFile()
  } catch {
    // Reported below.
  }

  if (!hasCatalog) {
    throw new UserError(`backup_path ${dir} is not a backup path: it has no catalog (${CATALOG_FILE}); give the directory that holds ${CATALOG_FILE} and items/`)
  }

  // Its own catalog file, whatever CARBONIO_BACKUP_CATALOG_URL says about the server's catalog. Looked at before
  // migrating: a stray SQLite file must not be turned into an empty catalog.
  const catalog = await openCatalog({env: {CARBONIO_BACKUP_HOME: dir}, migrate: false})
  try {
    if (!(await catalog.db.schema.hasTable('item_revisions'))) {
      throw new UserError(`backup_path ${dir} is not a backup path: ${CATALOG_FILE} there is not a backup catalog`)
    }

    await migrateToLatest(catalog.db)
  } catch (error) {
    await catalog.close()
    if (error instanceof UserError) throw error
    throw new UserError(`cannot open the catalog of backup_path ${dir}: ${(error as Error).message}`)
  }

  return catalog
}
