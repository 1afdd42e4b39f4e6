import {BaseCommand} from '../../cli/base-command.js'
import {type LegalHoldState, unsetLegalHold} from '../../engine/legal-hold/legal-hold.js'
import {describeLegalHold, holdTargetArg, holdTargetOf} from './legal-hold-view.js'

export default class LegalHoldUnset extends BaseCommand {
  static override summary = 'Release accounts from legal hold: the next purge applies retention to them again.'
  static override description
    = 'unset all releases every account, also those held one by one. Single accounts cannot be released while all '
      + 'accounts are held: unset all, then set the ones to keep.'
  static override examples = [
    '<%= config.bin %> backup legalHold unset alice@example.com,bob@example.com',
    '<%= config.bin %> backup legalHold unset all --json',
  ]
  static override args = holdTargetArg

  async run(): Promise<LegalHoldState> {
    const {args} = await this.parse(LegalHoldUnset)
    const target = holdTargetOf(args.accounts)
    const state = await unsetLegalHold(await this.catalog(), target)
    for (const line of describeLegalHold(state, target)) this.log(line)
    return state
  }
}
