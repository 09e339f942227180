import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const miniprogramGlobals = { wx: 'readonly', App: 'readonly', Page: 'readonly', Component: 'readonly', Behavior: 'readonly', getApp: 'readonly', getCurrentPages: 'readonly', requirePlugin: 'readonly' };

export default tseslint.config(
  { ignores: ['node_modules/', 'miniprogram/miniprogram_npm/', 'dist/', 'coverage/', '**/*.d.ts', 'bench/.tmp/', 'packages/*/miniprogram_dist/', 'packages/server/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['miniprogram/**/*.ts'], languageOptions: { globals: { ...miniprogramGlobals } } },
  { files: ['server/**/*.ts', 'test/**/*.ts', 'test/**/*.js', 'bench/**/*', 'scripts/**/*', '*.js', '*.mjs'], languageOptions: { globals: { ...globals.node, ...globals.jest } } },
  // Scripts that run inside Chromium (the screens' layout checks).
  { files: ['**/*.browser.js'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
