// CONTRACT (implemented by test/setup/postgres-server.ts and this file):
//
//   DIALECTS: the catalog dialects every catalog test runs against: ['sqlite', 'postgres'].
//   openTestCatalog(dialect): a fresh, empty, migrated catalog in a new temporary backup home; for postgres a new
//     database on the throwaway server that the root hooks started. `env` is what a child process (bin/run.js)
//     needs to open the same catalog. `cleanup()` closes it and removes the home (and drops the database).
import type {Catalog} from '../../src/engine/catalog/catalog.js'

export type Dialect = 'postgres' | 'sqlite'
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres']

export interface TestCatalog {
  catalog: Catalog
  env: NodeJS.ProcessEnv
  home: string
  cleanup(): Promise<void>
}

export declare function openTestCatalog(dialect: Dialect): Promise<TestCatalog>
