import type {Knex} from 'knex'

import type {Catalog} from './catalog.js'

/**
 * Tells a long-lived writer whether any other connection committed to the catalog since it last asked, so that what
 * it cached across its own transactions (accounts, folders, items' current states) can be trusted or dropped.
 * Asked inside a write transaction, the answer holds until that transaction ends: nobody else can commit meanwhile.
 * SQLite answers with `PRAGMA data_version`, which moves only for other connections' commits; PostgreSQL has no
 * such counter, so there the answer is 'unknown'.
 */
export class OtherWriters {
  private seen: null | number = null

  async since(trx: Knex.Transaction, dialect: Catalog['dialect']): Promise<'changed' | 'unchanged' | 'unknown'> {
    if (dialect !== 'sqlite') return 'unknown'
    const [row] = await trx.raw('PRAGMA data_version')
    const version = Number(row.data_version)
    const answer = this.seen === version ? 'unchanged' : 'changed'
    this.seen = version
    return answer
  }

  /** After a failed transaction nothing cached is trusted until the next answer. */
  forget(): void {
    this.seen = null
  }
}
