import type {Knex} from 'knex'

import type {Catalog} from '../catalog/catalog.js'

import {writeTransaction} from '../catalog/write-transaction.js'

/**
 * Runs `work` in a transaction that no scanner batch can interleave with, for repairs that move blob files.
 *
 * The scanner writes a blob file before its batch transaction and, inside that transaction, writes again any file
 * that vanished meanwhile (a blob row first; then `blobs.has()`, see flush-items.ts). A repair that checks "no row
 * names this file", moves the file and commits, all while holding the lock a scanner batch needs for its first
 * blob write, is therefore either fully before that batch (which then finds the file gone and stores it again)
 * or fully after it (and sees its row). PostgreSQL: SHARE ROW EXCLUSIVE on blobs conflicts with the scanner's
 * UPDATE/INSERT of blob rows but not with readers. SQLite has one writer: writeTransaction takes the write lock
 * with its first statement, as every scanner batch does.
 */
export async function withBlobsLocked<T>(catalog: Catalog, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return writeTransaction(catalog, async trx => {
    if (catalog.dialect === 'postgres') await trx.raw('LOCK TABLE blobs IN SHARE ROW EXCLUSIVE MODE')
    return work(trx)
  })
}
