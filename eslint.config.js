import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The browser test page's script: plain browser JavaScript, outside the TypeScript projects.
    files: ['test/browser/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { window: 'readonly', crypto: 'readonly' },
    },
  },
  {
    // The heap probe preloaded into processes under endurance tests: plain CommonJS for Node.
    files: ['test/helpers/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'commonjs',
      parserOptions: { projectService: false, project: null },
      globals: { require: 'readonly', process: 'readonly', setTimeout: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // node:test's describe/it return promises the runner itself awaits.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    // The browser dialer runs in pages: browser APIs only, nothing from the Node side of the package.
    files: ['src/browser/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', '../*'] }] },
  },
  {
    files: ['src/mux/**', 'src/transport/**', 'src/proto/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/config/**', '**/registry/**', '**/chain/**', '**/cli/**', 'pino'] },
      ],
    },
  },
);
