// Lint rules of the repository (STYLE.md): strict TypeScript, no floating promises, no import cycles,
// no undeclared dependencies across the workspace walls.
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.automateiq/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.mjs', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
      'import/no-extraneous-dependencies': ['error', { includeInternal: false }],
    },
  },
  {
    // Tests, benchmarks and tooling use the root's development dependencies.
    files: ['**/*.test.ts', '**/test/**', 'bench/**', 'vitest.config.ts', 'eslint.config.js'],
    rules: { 'import/no-extraneous-dependencies': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
