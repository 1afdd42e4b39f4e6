import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {historyDateParam} from '../../cli/history-params.js'
import {describeItemState, itemStateView, type ItemStateView} from '../../cli/history-view.js'
import {booleanParam, textParam} from '../../cli/params.js'
import {UsageError} from '../../engine/errors.js'
import {isoTime} from '../../engine/history/history-time.js'
import {readItemContent, writeContentFile} from '../../engine/history/item-content.js'
import {itemHistory} from '../../engine/history/item-history.js'

export interface GetItemResult {
  account: string
  item: string
  type: string
  firstSeen: string
  /** What was asked: all, first, last or an ISO time. */
  selection: string
  totalStates: number
  states: ItemStateView[]
  /** With dump_blob true: what was written, and where ('stdout' when no output file was given). */
  dump?: {digest: string; bytes: number; output: string}
}

export default class GetItem extends BaseCommand {
  static override summary = 'Show the states of an item: each with its validity interval, folder, flags, tags and content.'
  static override description
    = 'date selects the state valid at that time (default last, the current one; first is the oldest; all lists every '
      + 'state). dump_blob true writes the raw content of the selected state exactly as the AppServer had it, to '
      + 'output <file> or, without --json, to stdout (the description then goes to stderr).'
  static override examples = [
    '<%= config.bin %> backup getItem alice@example.com 257 date all',
    '<%= config.bin %> backup getItem alice@example.com 257 date "26/11/2026 09:30:00" --json',
    '<%= config.bin %> backup getItem alice@example.com 257 dump_blob true output /tmp/257.eml',
  ]
  static override args = {
    account: Args.string({description: 'account address (or its server id)', required: true}),
    item: Args.string({description: 'item id on the server', required: true}),
  }
  static override flags = {
    date: historyDateParam({description: 'the state valid at this time, or last (default), first, all'}),
    dump_blob: booleanParam({description: 'write the raw content of the selected state'}),
    output: textParam({description: 'file to write the content to (with dump_blob true)'}),
  }

  async run(): Promise<GetItemResult> {
    const {args, flags} = await this.parse(GetItem)
    const point = flags.date ?? {kind: 'last'}
    const dump = flags.dump_blob ?? false
    if (dump && point.kind === 'all') throw new UsageError('dump_blob writes one state: give date <time>, first or last, not all')
    if (dump && !flags.output && this.jsonEnabled()) throw new UsageError('with --json, stdout carries the JSON: give output <file> for dump_blob')
    if (flags.output && !dump) throw new UsageError('output names the file for dump_blob true: add dump_blob true')
    const catalog = await this.catalog()
    const history = await itemHistory(catalog, args.account, args.item, point)
    const result: GetItemResult = {
      account: history.account.name,
      item: history.item,
      type: history.type,
      firstSeen: isoTime(history.firstSeen),
      selection: history.selection,
      totalStates: history.totalStates,
      states: history.states.map(state => itemStateView(state)),
    }
    // The content is read before anything is printed: a state without content in the backup fails with its reason only.
    const content = dump ? await readItemContent(catalog, history, history.states[0], this.server) : undefined
    // The file is written before anything is printed too: an output that cannot be written fails with its reason only.
    const written = content && flags.output ? await writeContentFile(flags.output, content) : undefined
    const toStdout = dump && !flags.output
    // When the content goes to stdout, the description goes to stderr so that the bytes stay exact.
    const say = (line: string) => (toStdout ? this.logToStderr(line) : this.log(line))
    say(`item ${result.item} (${result.type}) of ${result.account}, first seen ${result.firstSeen}: ${result.states.length} of ${result.totalStates} states (${result.selection})`)
    for (const state of result.states) for (const line of describeItemState(state)) say(line)
    if (content) {
      const state = history.states[0]
      if (written) {
        result.dump = {digest: state.blobDigest!, bytes: content.length, output: written}
        say(`wrote ${content.length} bytes to ${written}`)
      } else {
        await new Promise<void>((resolve, reject) => {
          process.stdout.write(content, error => (error ? reject(error) : resolve()))
        })
        result.dump = {digest: state.blobDigest!, bytes: content.length, output: 'stdout'}
      }
    }

    return result
  }
}
