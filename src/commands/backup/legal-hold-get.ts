import {BaseCommand} from '../../cli/base-command.js'
import {getLegalHold, type LegalHoldState} from '../../engine/legal-hold/legal-hold.js'
import {describeLegalHold, holdTargetArg, holdTargetOf} from './legal-hold-view.js'

export default class LegalHoldGet extends BaseCommand {
  static override summary = 'Show which accounts are under legal hold, and whether all accounts are.'
  static override description
    = 'get all lists every account in the backup with its hold; a list shows only those accounts.'
  static override examples = [
    '<%= config.bin %> backup legalHold get alice@example.com,bob@example.com',
    '<%= config.bin %> backup legalHold get all --json',
  ]
  static override args = holdTargetArg

  async run(): Promise<LegalHoldState> {
    const {args} = await this.parse(LegalHoldGet)
    const target = holdTargetOf(args.accounts)
    const state = await getLegalHold(await this.catalog(), target)
    for (const line of describeLegalHold(state, target, true)) this.log(line)
    return state
  }
}
