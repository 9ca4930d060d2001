import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Declare the variable in src/config/variables.ts and read it from the Config.',
        },
      ],
    },
  },
  { files: ['**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    // The entry points hand the environment to loadConfig (src/config.ts).
    files: ['src/main.ts', 'src/admin/cli.ts', 'test/**/*.ts', 'test/**/*.js', 'bench/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
