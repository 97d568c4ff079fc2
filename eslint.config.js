// Lint rules that keep the house style mechanical: workflow code cannot reach I/O, type-only
// imports are marked, and no promise is left floating.
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

module.exports = tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'coverage/**', 'test/fixtures/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Deterministic workflow code: no Node built-ins, no I/O packages, activities by type only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflow code must stay deterministic: do I/O in an activity' })),
          patterns: [
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'express', 'jsonata', 'zod', '**/connectors/**', '**/api/**', '**/sandbox/**', '**/tenants/**'],
              message: 'workflow code may import only @temporalio/workflow, @temporalio/common and pure domain modules',
            },
            { group: ['**/activities', '**/activities/**'], message: 'import activity types with `import type`', allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() or condition() from @temporalio/workflow' }, { name: 'fetch', message: 'I/O belongs in activities' }],
    },
  },
);
