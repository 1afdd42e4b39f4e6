import type {Knex} from 'knex'

export interface AccountRecord {
  id: number
  name: string
  deleted: boolean
}

interface AccountVersion {
  validFrom: number
  operation: string
  name: string
  deleted: boolean
  settings: Record<string, unknown>
}

/** Accounts by current name, cached across batches of one scanner (it is their only writer for its server). */
export class AccountDirectory {
  private readonly byName = new Map<string, AccountRecord>()

  forget(): void {
    this.byName.clear()
  }

  async lookup(db: Knex | Knex.Transaction, name: string): Promise<AccountRecord | undefined> {
    const key = name.toLowerCase()
    const cached = this.byName.get(key)
    if (cached) return cached
    const row = await db('accounts').where({name: key}).first('id', 'name', 'deleted_at')
    if (!row) return undefined
    const record = {id: Number(row.id), name: row.name, deleted: row.deleted_at !== null}
    this.byName.set(key, record)
    return record
  }

  /** Creates the account (identity, domain, first revision). */
  async create(
    trx: Knex.Transaction,
    name: string,
    time: number,
    data: {cos?: string; id?: string; settings?: Record<string, unknown>},
    operation = 'account.created',
  ): Promise<AccountRecord> {
    const key = name.toLowerCase()
    const domainId = await ensureDomain(trx, key.split('@')[1] ?? '', time)
    const [row] = await trx('accounts')
    .insert({
      name: key, remote_id: data.id ?? null, domain_id: domainId, cos_name: data.cos ?? null, first_seen: time,
    })
    .returning('id')
    const record = {id: Number(typeof row === 'object' ? row.id : row), name: key, deleted: false}
    await appendVersion(trx, record.id, {
      validFrom: time, operation, name: key, deleted: false, settings: data.settings ?? {},
    })
    this.byName.set(key, record)
    return record
  }

  async modify(trx: Knex.Transaction, account: AccountRecord, time: number, data: {cos?: string; settings?: Record<string, unknown>}): Promise<void> {
    const current = await openVersion(trx, account.id)
    // Settings in account.modified are changes: merged over the previous ones, a null value removes a key.
    const settings = {...current?.settings}
    for (const [key, value] of Object.entries(data.settings ?? {})) {
      if (value === null) delete settings[key]
      else settings[key] = value
    }

    if (data.cos !== undefined) await trx('accounts').where({id: account.id}).update({cos_name: data.cos})
    await appendVersion(trx, account.id, {...base(current, account, time), operation: 'account.modified', settings})
  }

  async rename(trx: Knex.Transaction, account: AccountRecord, time: number, newName: string): Promise<void> {
    const key = newName.toLowerCase()
    const current = await openVersion(trx, account.id)
    await trx('accounts').where({id: account.id}).update({name: key, domain_id: await ensureDomain(trx, key.split('@')[1] ?? '', time)})
    await appendVersion(trx, account.id, {...base(current, account, time), operation: 'account.renamed', name: key})
    this.byName.delete(account.name)
    account.name = key
    this.byName.set(key, account)
  }

  /**
   * Frees the address of a deleted account for another one (created or renamed to it): the deleted account keeps its
   * history under a name that says when it was deleted.
   */
  async setAside(trx: Knex.Transaction, account: AccountRecord): Promise<void> {
    const row = await trx('accounts').where({id: account.id}).first('deleted_at')
    // A purge in another process may have removed the deleted account since it was cached (on PostgreSQL nothing
    // tells this scanner that another connection wrote): the address is free already, and the cache is stale.
    if (!row) {
      this.forget()
      return
    }

    await trx('accounts').where({id: account.id}).update({name: `${account.name}#deleted-${row.deleted_at}`})
    this.forget()
  }

  async delete(trx: Knex.Transaction, account: AccountRecord, time: number): Promise<void> {
    const current = await openVersion(trx, account.id)
    await trx('accounts').where({id: account.id}).update({deleted_at: time})
    await appendVersion(trx, account.id, {...base(current, account, time), operation: 'account.deleted', deleted: true})
    account.deleted = true
  }
}

function base(current: AccountVersion | undefined, account: AccountRecord, time: number): AccountVersion {
  return {
    validFrom: Math.max(time, current?.validFrom ?? time),
    operation: '',
    name: account.name,
    deleted: false,
    settings: current?.settings ?? {},
  }
}

async function openVersion(trx: Knex.Transaction, accountId: number): Promise<AccountVersion | undefined> {
  const row = await trx('account_revisions').where({account_id: accountId}).whereNull('valid_to').first()
  if (!row) return undefined
  return {
    validFrom: Number(row.valid_from), operation: row.operation, name: row.name, deleted: Boolean(row.deleted), settings: JSON.parse(row.settings),
  }
}

async function appendVersion(trx: Knex.Transaction, accountId: number, version: AccountVersion): Promise<void> {
  await trx('account_revisions').where({account_id: accountId}).whereNull('valid_to').update({valid_to: version.validFrom})
  await trx('account_revisions').insert({
    account_id: accountId,
    valid_from: version.validFrom,
    valid_to: null,
    operation: version.operation,
    name: version.name,
    deleted: version.deleted,
    settings: JSON.stringify(version.settings),
  })
}

async function ensureDomain(trx: Knex.Transaction, name: string, time: number): Promise<null | number> {
  if (!name) return null
  const existing = await trx('domains').where({name}).first('id')
  if (existing) return Number(existing.id)
  const [row] = await trx('domains').insert({name, first_seen: time}).returning('id')
  return Number(typeof row === 'object' ? row.id : row)
}
