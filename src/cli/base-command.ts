import {Command, Errors, type Interfaces} from '@oclif/core'

import type {Catalog} from '../engine/catalog/catalog.js'

import {resolveBackupHome} from '../engine/backup-home.js'
import {openCatalog} from '../engine/catalog/open-catalog.js'
import {UsageError, UserError} from '../engine/errors.js'
import {localServerName} from '../engine/server-name.js'
import {storageFailure} from '../engine/storage-errors.js'
import {translateCarbonioArgv} from './carbonio-grammar.js'
import {usageLine} from './usage-line.js'

// oclif's parser types, which its public index does not re-export.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = {[name: string]: any}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = {[name: string]: any}

/**
 * Every carbonio-backup command: Carbonio's `name value` grammar, `--json`, one-line errors with Carbonio's
 * exit codes, and a lazily opened catalog that is closed however the command ends.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true
  // Not strict: with the space topic separator oclif would otherwise read `purgeDays 30` as more of the command
  // id. Strictness is restored by translateCarbonioArgv, which refuses anything the command does not declare.
  static override strict = false
  private openedCatalog?: Catalog

  protected get server(): string {
    return localServerName()
  }

  protected async catalog(): Promise<Catalog> {
    this.openedCatalog ??= await openCatalog()
    return this.openedCatalog
  }

  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const input = (options ?? this.ctor) as Interfaces.Input<F, B, A>
    const flags = Object.entries({...input.baseFlags, ...input.flags})
    const switches = flags.filter(([, flag]) => flag.type === 'boolean').map(([name]) => name)
    // oclif adds --json at parse time when enableJsonFlag is set; it is not among the declared flags.
    if (input.enableJsonFlag) switches.push('json')
    const translated = translateCarbonioArgv(argv, {
      params: flags.filter(([, flag]) => flag.type === 'option').map(([name]) => name),
      switches,
      maxPositional: Object.keys(input.args ?? {}).length,
    })
    return super.parse(input, translated)
  }

  protected override async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() travels as an error too; it is not a failure to report.
    if (thrown instanceof Errors.ExitError) throw thrown
    const error = storageFailure(thrown, this.openedCatalog?.home ?? resolveBackupHome()) ?? thrown
    const exit = exitCodeOf(error)
    let message = missingArgs(error) ?? error.message
    if (error instanceof UsageError || isOclifParseError(error)) {
      message = `${oneLine(message)}\n${usageLine(this.ctor, this.config)}`
    } else if (!(error instanceof UserError) && !(error instanceof Errors.CLIError) // An unexpected failure: keep the stack for debugging, but only when asked for.
      && process.env.DEBUG) console.error(error.stack)

    process.exitCode = exit
    if (this.jsonEnabled()) {
      // oclif exits 1 for any error under --json; keep the command's own code (DESIGN.md).
      this.logJson({error: {message: oneLine(missingArgs(error) ?? error.message), exitCode: exit}})
    } else {
      // Written here rather than rethrown: oclif would wrap the line at 80 columns and indent it, and an
      // administrator's grep or a script's log should get the error as one line.
      process.stderr.write(`Error: ${message}\n`)
    }

    return undefined
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.openedCatalog?.close()
    return super.finally(error)
  }

  /**
   * oclif colours JSON by cutting the whole text into a token object per key, string and brace, colour or not: the
   * 17 MB of `getAllOperations all true --json` after 50 exports of 600 accounts took 392 MB and 13 s. Where no colour
   * is shown (not a terminal, as in every script), the same indented text is written directly.
   */
  override logJson(json: unknown): void {
    if (process.stdout.isTTY) {
      super.logJson(json)
      return
    }

    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Writes a line to stderr: notices and warnings, never results (stdout stays clean for --json and pipes). */
  protected notice(message: string): void {
    if (!this.jsonEnabled()) this.logToStderr(message)
  }
}

function exitCodeOf(error: Error & {exitCode?: number; oclif?: {exit?: number}}): number {
  if (error instanceof UserError) return error.exitCode
  if (isOclifParseError(error)) return 2
  return error.oclif?.exit ?? 1
}

function isOclifParseError(error: Error): boolean {
  // oclif's parser errors carry the parse state; the message test covers the few that do not.
  if ('parse' in error) return true
  return /^(Missing \d+ required arg|Unexpected argument|Expected --|Nonexistent flag|Missing required flag|Parsing --)/.test(error.message)
}

/**
 * "missing <destination> (an existing, empty account on the mail server) and <date> (...)": oclif lists the missing
 * arguments as a two-column table, which on one line read "destination an existing, empty account...: date ...".
 */
function missingArgs(error: Error): string | undefined {
  if (!(error instanceof Errors.CLIError) || !/^Missing \d+ required arg/.test(error.message) || !('args' in error)) return undefined
  const args = (error.args as Array<{description?: string; name?: string}>).filter(arg => arg.name)
  if (args.length === 0) return undefined
  const named = args.map(arg => `<${arg.name}>${arg.description ? ` (${arg.description})` : ''}`)
  const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`
  return `missing ${list}`
}

/** oclif spreads a parse error over several lines ("Parsing --x", the reason, "See more help"); keep one. */
function oneLine(message: string): string {
  return message
  .split('\n')
  .map(line => line.trim())
  .filter(line => line !== '' && !line.startsWith('See more help') && line !== 'The following error occurred:')
  .join(': ')
  .replaceAll(':: ', ': ')
  .replaceAll(/\s{2,}/g, ' ')
  .replace(/^Error: /, '')
  .replace(/^Parsing --\S+: /, '')
}
