import type {CurrentFolder} from './folder-writer.js'

/**
 * The folders of recently active accounts, kept across batches: folders are few per account, and reading them
 * from the catalog for every batch that touches a folder cost more than the batch itself. Bounded, oldest first.
 */
export class FolderCache extends Map<number, Map<string, CurrentFolder>> {
  override set(accountId: number, folders: Map<string, CurrentFolder>): this {
    this.delete(accountId)
    super.set(accountId, folders)
    if (this.size > FOLDER_CACHE_ACCOUNTS) this.delete(this.keys().next().value!)
    return this
  }
}

const FOLDER_CACHE_ACCOUNTS = 5000
