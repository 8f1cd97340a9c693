import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'web/dist/**', '.test-data/**', 'bench/results/**', '.stryker-tmp*/**', 'reports/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read loosely typed JSON answers; `any` there keeps assertions readable.
    files: ['**/test/**', 'tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Only adapter files import storage and transport SDKs.
    files: ['**/*.ts'],
    ignores: ['**/store/sqlite.ts', '**/store/dynamodb.ts', 'packages/kit/src/sqlite.ts', 'packages/kit/src/dynamodb.ts', 'packages/kit/src/redis.ts', 'packages/kit/src/throttle.ts', '**/live/socket-io.ts', '**/test/**', 'tests/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            group: ['better-sqlite3', '@aws-sdk/*', 'socket.io', 'redis', '@redis/*', 'rate-limiter-flexible', '@socket.io/*'],
            message: 'Only adapter files (store/sqlite.ts, store/dynamodb.ts, kit redis.ts and throttle.ts, live/socket-io.ts) may import storage or transport SDKs.',
          },
        ],
      }],
    },
  },
);
