// Lint rules carry the house style that the compiler cannot: no `any`, pure codecs, engines behind interfaces.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test/artifacts/**', 'bench/results/**', 'bench/tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/src/**', '../src/*', '../../src/*'], message: 'protocols/ is pure: nothing from src/' },
        { group: ['node:net', 'node:tls', 'node:fs', 'node:timers', 'pino'], message: 'protocols/ has no IO, timers or logger' },
      ] }],
      '@typescript-eslint/no-non-null-assertion': 'error',
    },
  },
  {
    files: ['src/engines/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/credentials/builtin/**', '**/credentials/vault/**', '**/audit/sinks/**', '**/store/sqlite*', '**/store/postgres*'],
          message: 'engines see brokers, sinks and the store through interfaces handed in by main.ts' },
      ] }],
    },
  },
  {
    files: ['**/*.mjs', 'bin/**/*.js', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
