import {BaseCommand} from '../../cli/base-command.js'
import {type LegalHoldState, setLegalHold} from '../../engine/legal-hold/legal-hold.js'
import {describeLegalHold, holdTargetArg, holdTargetOf} from './legal-hold-view.js'

export default class LegalHoldSet extends BaseCommand {
  static override summary = 'Put accounts under legal hold: purge keeps everything they hold, deleted items and the deleted account itself.'
  static override description
    = 'all holds every account in the backup now and every account that appears later, until legalHold unset all. '
      + 'Unknown accounts are refused and nothing changes. Deleted accounts can be held while the backup still has them; '
      + 'an address deleted and created again holds its earlier accounts too (address#deleted-<ms>), and legalHold unset on it releases them all.'
  static override examples = [
    '<%= config.bin %> backup legalHold set alice@example.com,bob@example.com',
    '<%= config.bin %> backup legalHold set all --json',
  ]
  static override args = holdTargetArg

  async run(): Promise<LegalHoldState> {
    const {args} = await this.parse(LegalHoldSet)
    const target = holdTargetOf(args.accounts)
    const state = await setLegalHold(await this.catalog(), target)
    for (const line of describeLegalHold(state, target)) this.log(line)
    return state
  }
}
