// CONTRACT (implemented by test/setup/postgres-server.ts and this file):
//
//   DIALECTS: the catalog dialects every catalog test runs against: ['sqlite', 'postgres'].
//   openTestCatalog(dialect): a fresh, empty, migrated catalog in a new temporary backup home; for postgres a new
//     database on the throwaway server that the root hooks started. `env` is what a child process (bin/run.js)
//     needs to open the same catalog. `cleanup()` closes it and removes the home (and drops the database).
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Catalog} from '../../src/engine/catalog/catalog.js'

import {openCatalog} from '../../src/engine/catalog/open-catalog.js'
import {createTestDatabase, type TestDatabase} from '../setup/postgres-server.js'

export type Dialect = 'postgres' | 'sqlite'
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres']

export interface TestCatalog {
  catalog: Catalog
  env: NodeJS.ProcessEnv
  home: string
  cleanup(): Promise<void>
}

export async function openTestCatalog(dialect: Dialect): Promise<TestCatalog> {
  const home = await mkdtemp(path.join(tmpdir(), `carbonio-backup-test-${dialect}-`))
  let database: TestDatabase | undefined
  try {
    const env: NodeJS.ProcessEnv = {CARBONIO_BACKUP_HOME: home}
    if (dialect === 'postgres') {
      database = await createTestDatabase()
      env.CARBONIO_BACKUP_CATALOG_URL = database.url
    }

    const catalog = await openCatalog({env})
    let cleaned = false
    return {
      catalog,
      env,
      home,
      async cleanup() {
        if (cleaned) return
        cleaned = true
        try {
          await catalog.close()
        } finally {
          await database?.drop()
          await rm(home, {force: true, recursive: true})
        }
      },
    }
  } catch (error) {
    await database?.drop().catch(() => {})
    await rm(home, {force: true, recursive: true})
    throw error
  }
}
