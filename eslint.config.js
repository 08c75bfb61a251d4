// Lint: typescript-eslint's type-checked rules plus the project's own (STYLE.md F "Lint and
// format", D rules 4 and 5). Layout is not linted: Prettier formats.
// typescript-eslint needs the TypeScript compiler API, which TypeScript 7 does not have: it loads
// the `typescript` package (5.9), while `npm run typecheck` runs TypeScript 7 (the `tsc7` alias).
// See docs/decisions/0002-tooling.md.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import n from 'eslint-plugin-n';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/**'],
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    plugins: { n },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // STYLE.md D5: every promise is awaited, returned, or handed to an owner. node:test's
      // test()/describe() promises are owned by the runner (typescript-eslint's documented setting).
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      // A value (a class) imported only for its type says `type`: verbatimModuleSyntax would keep
      // the runtime import, which tsc does not flag.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      // STYLE.md D4: only src/main.ts exits (turned off for it below).
      'n/no-process-exit': 'error',
      'n/prefer-node-protocol': 'error',
      // A `let` that closures read before its one assignment (spool/index.ts) cannot be const (TDZ).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Sync work that must return a Promise is written `async` (start(), test stubs): a throw
      // becomes a rejection, as the interfaces' callers expect.
      '@typescript-eslint/require-await': 'off',
      // A parameter kept for an interface's signature is named `_x`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Indexed reads are written `a[i]!` on purpose (typed-array hot loops, ~760 sites): the
      // assertion documents "in bounds here" and stays correct if noUncheckedIndexedAccess is enabled.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['src/main.ts'],
    rules: {
      // The one exit point: maps errors to exit codes (STYLE.md D4).
      'n/no-process-exit': 'off',
    },
  },
);
