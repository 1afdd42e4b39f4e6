import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {exactDateParam, itemTypeParam, searchFilterParam} from '../../cli/history-params.js'
import {itemStateView, type ItemStateView} from '../../cli/history-view.js'
import {integerParam, textParam} from '../../cli/params.js'
import {visibleText} from '../../cli/visible-text.js'
import {earlierAccounts} from '../../engine/history/earlier-accounts.js'
import {isoOrNull, isoTime} from '../../engine/history/history-time.js'
import {DEFAULT_SEARCH_LIMIT, searchItems} from '../../engine/history/item-search.js'

export interface ItemSearchView {
  id: string
  type: string
  firstSeen: string
  /** When it came into the mailbox: a message's internal date where the backup knows it, else firstSeen. */
  arrived: string
  deletedAt: null | string
  state: ItemStateView
}

export interface DoItemSearchResult {
  account: string
  /** For a deleted account: when. Its items are listed in the state they had then (not marked deleted). */
  accountDeletedAt: null | string
  matches: ItemSearchView[]
  truncated: boolean
  /** Deleted accounts that had this address before it was created again (newest first): search them by these names. */
  earlierAccounts: string[]
}

export default class DoItemSearch extends BaseCommand {
  static override summary = 'Search the items of an account in the backup, deleted ones included.'
  static override description
    = 'search_string matches, ignoring case, any text in the item\'s metadata (subject, from, to, names, summary...). '
      + 'type keeps one item type; after and before bound when the item came into the mailbox (after inclusive, before '
      + 'exclusive): a message\'s internal date where the backup knows it (IMAP), otherwise when the backup recorded the '
      + 'item\'s creation; search_filter deleted|not_deleted looks at whether the item is deleted now (default all). '
      + `At most limit matches are listed (default ${DEFAULT_SEARCH_LIMIT}); limit 0, or an after not earlier than before, is refused.`
  static override examples = [
    '<%= config.bin %> backup doItemSearch alice@example.com search_string invoice search_filter deleted',
    '<%= config.bin %> backup doItemSearch alice@example.com type contact after 01/11/2026 --json',
  ]
  static override args = {
    account: Args.string({description: 'account address (or its server id)', required: true}),
  }
  static override flags = {
    search_string: textParam({description: 'text to find in the metadata, ignoring case'}),
    type: itemTypeParam({description: 'only items of this type'}),
    after: exactDateParam({description: 'only items that came into the mailbox at or after this time'}),
    before: exactDateParam({description: 'only items that came into the mailbox before this time'}),
    search_filter: searchFilterParam({description: 'all (default), deleted (deleted now) or not_deleted'}),
    limit: integerParam({description: `list at most this many matches (1 or more; default ${DEFAULT_SEARCH_LIMIT})`}),
  }

  async run(): Promise<DoItemSearchResult> {
    const {args, flags} = await this.parse(DoItemSearch)
    const catalog = await this.catalog()
    const found = await searchItems(catalog, args.account, {
      text: flags.search_string,
      type: flags.type,
      after: flags.after,
      before: flags.before,
      filter: flags.search_filter ?? 'all',
      limit: flags.limit,
    })
    const result: DoItemSearchResult = {
      account: found.account.name,
      accountDeletedAt: isoOrNull(found.account.deletedAt),
      matches: found.matches.map(match => ({
        id: match.id,
        type: match.type,
        firstSeen: isoTime(match.firstSeen),
        arrived: isoTime(match.arrivedAt),
        deletedAt: isoOrNull(match.deletedAt),
        state: itemStateView(match),
      })),
      truncated: found.truncated,
      earlierAccounts: (await earlierAccounts(catalog, found.account)).map(account => account.name),
    }
    for (const match of result.matches) {
      const summary = summaryOf(match.state.metadata)
      const deleted = match.deletedAt ? `  DELETED ${match.deletedAt}` : ''
      // The folder and the summary come from the mailbox: one item stays one line.
      this.log(visibleText(`${match.id}  ${match.type}  ${match.arrived}  ${match.state.folderPath}  ${match.state.flags.join(' ') || '-'}${deleted}${summary ? `  ${summary}` : ''}`))
    }

    if (result.accountDeletedAt) this.log(`the account was deleted at ${result.accountDeletedAt}: its items are shown as they were then`)
    this.log(`${result.matches.length} item${result.matches.length === 1 ? '' : 's'} of ${result.account}${result.truncated ? ` (more match: raise limit above ${result.matches.length})` : ''}`)
    for (const earlier of result.earlierAccounts) {
      this.log(`${result.account} was also the address of the deleted account ${earlier}: carbonio backup doItemSearch ${earlier} searches its items`)
    }

    return result
  }
}

/** The one or two metadata fields that tell items apart in a list. */
function summaryOf(metadata: Record<string, unknown>): string {
  const pick = (...keys: string[]) => keys.map(key => metadata[key]).find(value => typeof value === 'string' && value !== '') as string | undefined
  const person = [pick('firstName'), pick('lastName')].filter(Boolean).join(' ')
  const title = pick('subject', 'summary', 'name', 'fullName', 'displayName') ?? (person || pick('email'))
  const from = pick('from')
  return [from ? `from ${from}` : undefined, title ? `"${title}"` : undefined].filter(Boolean).join(' ')
}
