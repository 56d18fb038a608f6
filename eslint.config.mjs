// One flat config for the whole monorepo. Each workspace runs `eslint .` and
// ESLint finds this file by walking up from the linted files.
import js from '@eslint/js';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/cdk.out/**', '**/coverage/**', '**/node_modules/**', 'reports/**', '.turbo/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // This file itself is linted without a tsconfig.
          allowDefaultProject: ['*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Configuration is read in exactly one place (packages/config), validated,
      // and passed down. Reading process.env elsewhere bypasses validation.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through @conveyor/config (loadConfig), not process.env.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
  },
  {
    // The config module is the one place allowed to read the environment; tests
    // arrange environments for the processes they start; tool configuration
    // files and build CLIs run outside the service and may read it too.
    files: [
      'packages/config/src/**/*.ts',
      '**/__tests__/**',
      '**/*.config.{js,mjs,cjs}',
      'tooling/jest-config/**/*.js',
      // Build tools read CodeBuild's variables (CODEBUILD_*) from their own environment.
      'packages/bundle/src/cli.ts',
      'packages/local-pipeline/src/cli.ts',
      'tooling/bench/src/cli.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.{js,cjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', setTimeout: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/__tests__/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      // A focused test silently skips the rest of the suite in CI.
      'jest/no-focused-tests': 'error',
      // CDK's Template assertions (hasResourceProperties, resourceCountIs...) assert too.
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'request.**.expect', 'expect*', '**.has*', '**.resourceCountIs', '**.resourcePropertiesCountIs'] }],
    },
  },
);
