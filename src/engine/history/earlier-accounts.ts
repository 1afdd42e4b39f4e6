import type {Catalog} from '../catalog/catalog.js'

import {type AccountEntry, accountFromRow} from './account-lookup.js'

/**
 * The deleted accounts that had an account's address before it was created again, newest first. An address typed
 * into a reader names its current account, and the scanner set the deleted one aside as `address#deleted-<ms>`:
 * the mail of an account deleted by mistake and provisioned again is there, and a reader that found nothing in the
 * current account said only "0 items" or "not in the backup", as if the backup had lost it.
 */
export async function earlierAccounts(catalog: Catalog, account: AccountEntry): Promise<AccountEntry[]> {
  if (account.deletedAt !== null) return []
  const prefix = `${account.name}#deleted-`
  // substr, not LIKE: an address may hold `_`, which LIKE takes for any character.
  const rows = await catalog.db('accounts as a')
  .leftJoin('domains as d', 'd.id', 'a.domain_id')
  .whereRaw('substr(a.name, 1, ?) = ?', [prefix.length, prefix])
  .whereNot('a.id', account.key)
  .orderBy('a.deleted_at', 'desc')
  .select('a.id', 'a.name', 'a.remote_id', 'd.name as domain', 'a.cos_name', 'a.first_seen', 'a.deleted_at', 'a.legal_hold')
  return rows.map(row => accountFromRow(row))
}

/** The newest of those deleted accounts that has the item (ids of an address's accounts may repeat), if one has. */
export async function earlierAccountWithItem(catalog: Catalog, account: AccountEntry, itemId: string): Promise<AccountEntry | undefined> {
  for (const earlier of await earlierAccounts(catalog, account)) {
    const item = await catalog.db('items').where({account_id: earlier.key, remote_id: itemId}).first('id')
    if (item) return earlier
  }

  return undefined
}
