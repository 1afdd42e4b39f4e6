import type {Knex} from 'knex'

import type {Catalog} from './catalog.js'

const ATTEMPTS = 5

/**
 * A transaction that writes. On SQLite it takes the write lock with its first statement: a transaction that
 * read first and then wrote would fail with SQLITE_BUSY (not even waiting) whenever another process committed
 * in between, and the scanner of the daemon commits all the time. The no-op DELETE takes the lock (and waits
 * for it under busy_timeout) without changing anything.
 */
export function writeTransaction<T>(catalog: Catalog, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return catalog.db.transaction(async trx => {
    if (catalog.dialect === 'sqlite') await trx.raw('DELETE FROM checkpoints WHERE 1 = 0')
    return work(trx)
  })
}

/**
 * Runs a unit of work again when it lost a race it cannot prevent: SQLite still busy after its timeout,
 * or a PostgreSQL deadlock or serialisation failure against a scanner batch. Each unit is one transaction that
 * either wholly happened or not at all, so running it again is safe.
 */
export async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt >= ATTEMPTS || !isTransientConflict(error)) throw error
      await new Promise(resolve => {
        setTimeout(resolve, 50 * attempt)
      })
    }
  }
}

export function isTransientConflict(error: unknown): boolean {
  const {code, message} = error as {code?: string; message?: string}
  return code === 'SQLITE_BUSY' || code === '40P01' || code === '40001' || /SQLITE_BUSY/.test(message ?? '')
}
