import assert from 'node:assert/strict'

import {type GrammarSpec, translateCarbonioArgv} from '../../src/cli/carbonio-grammar.js'
import {UsageError} from '../../src/engine/errors.js'

const purge: GrammarSpec = {params: ['purgeDays', 'backup_path'], switches: ['json'], maxPositional: 0}
const getItem: GrammarSpec = {params: ['date', 'dump_blob'], switches: ['json'], maxPositional: 2}

describe('Carbonio grammar translation', () => {
  const accepted: Array<[string, GrammarSpec, string[], string[]]> = [
    ['name value pair', purge, ['purgeDays', '30'], ['--purgeDays=30']],
    ['name matched case-insensitively', purge, ['purgedays', '30'], ['--purgeDays=30']],
    ['--name value', purge, ['--purgeDays', '30'], ['--purgeDays=30']],
    ['--name=value', purge, ['--purgeDays=30'], ['--purgeDays=30']],
    ['value containing =', purge, ['backup_path', '/a=b'], ['--backup_path=/a=b']],
    ['switch passes through', purge, ['--json', 'purgeDays', '1'], ['--json', '--purgeDays=1']],
    ['positionals then pairs', getItem, ['a@b.c', '42', 'date', 'all'], ['a@b.c', '42', '--date=all']],
    ['pairs before positionals', getItem, ['dump_blob', 'true', 'a@b.c', '42'], ['--dump_blob=true', 'a@b.c', '42']],
    ['value that looks like a flag', getItem, ['a@b.c', '1', 'date', '-1'], ['a@b.c', '1', '--date=-1']],
    ['-h kept', purge, ['-h'], ['-h']],
    ['after -- everything is literal', getItem, ['--', 'date', 'x'], ['--', 'date', 'x']],
    ['nothing', purge, [], []],
  ]
  for (const [name, spec, argv, expected] of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(translateCarbonioArgv(argv, spec), expected)
    })
  }

  const refused: Array<[string, GrammarSpec, string[], RegExp]> = [
    ['a leftover word', purge, ['purgeDays', '30', 'extra'], /unexpected parameter 'extra'/],
    ['an unknown --flag', purge, ['--purgeDay', '3'], /unexpected parameter '--purgeDay' \(did you mean purgeDays\?\)/],
    ['a typo of a name', purge, ['purgeDay', '3'], /unexpected parameter 'purgeDay' \(did you mean purgeDays\?\)/],
    ['a name without value', purge, ['purgeDays'], /purgeDays needs a value/],
    ['--name without value', purge, ['--purgeDays'], /purgeDays needs a value/],
    ['a value on a switch', purge, ['--json=yes'], /--json takes no value/],
    ['too many positionals', getItem, ['a@b.c', '1', '2'], /unexpected parameter '2'/],
  ]
  for (const [name, spec, argv, message] of refused) {
    it(`refuses ${name} with a usage error`, () => {
      assert.throws(
        () => translateCarbonioArgv(argv, spec),
        (error: unknown) => error instanceof UsageError && error.exitCode === 2 && message.test(error.message),
      )
    })
  }

  it('does not suggest a parameter that is nothing like the word', () => {
    assert.throws(() => translateCarbonioArgv(['zzzzzzzz'], purge), /^UsageError: unexpected parameter 'zzzzzzzz'$/)
  })
})
