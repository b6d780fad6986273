// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts may exit; throw a VipdrillError instead.' }],
    },
  },
  {
    // analysis and reporters are pure views of recorded runs: they never reach the lab, faults, hosts or CLI
    files: ['src/analysis/**/*.ts', 'src/report/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/lab/*', '!**/lab/engine.js'], message: 'analysis and reporters may not reach the lab (only its EngineInfo type)', allowTypeImports: false },
            { group: ['**/faults/*', '**/hosts/*', '**/cli/*', '**/run/scenario.js', '**/run/suite.js', '**/run/watchers.js', '**/run/observe.js', '**/run/evidence.js', '**/run/stability.js'], message: 'analysis and reporters are pure views of recorded runs: no lab, fault, host or CLI code here' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/main.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
