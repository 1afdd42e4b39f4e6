import oclif from 'eslint-config-oclif'

export default [
  {ignores: ['dist/', 'node_modules/', 'tmp/', 'bench/results/']},
  ...oclif,
  {
    rules: {
      // Commands and the engine log on purpose (progress on stderr, results on stdout).
      'no-console': 'off',
      // The engine talks to SQL and IMAP where snake_case names are the wire format.
      camelcase: 'off',
      // Carbonio verbs (doPurge) live in kebab-case files; the oclif id comes from the explicit command map.
      'unicorn/filename-case': ['error', {case: 'kebabCase'}],
      'n/no-process-exit': 'off',
      'unicorn/no-process-exit': 'off',
      'no-await-in-loop': 'off',
      'perfectionist/sort-objects': 'off',
      'perfectionist/sort-classes': 'off',
      'perfectionist/sort-object-types': 'off',
      'perfectionist/sort-interfaces': 'off',
      'perfectionist/sort-union-types': 'off',
      'perfectionist/sort-modules': 'off',
      'unicorn/prefer-top-level-await': 'off',
      // File modes (0700/0600) are bit masks; there is no clearer way to test them.
      'no-bitwise': 'off',
      // This rule defaults to tabs when the config sets no width and fights the two-space indent rule.
      '@stylistic/indent-binary-ops': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read --json output whose shape is the thing under test.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'unicorn/no-array-for-each': 'off',
    },
  },
]
