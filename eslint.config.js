import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'web/dist/**', '.test-data/**', 'bench/results/**', '.stryker-tmp*/**', 'reports/**', '**/cdk.out/**'] },
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
    // Only adapter files import storage, transport and image-processing SDKs.
    files: ['**/*.ts'],
    ignores: ['**/store/sqlite.ts', '**/store/dynamodb.ts', 'packages/kit/src/sqlite.ts', 'packages/kit/src/dynamodb.ts', 'packages/kit/src/dynamodb/**', 'packages/kit/src/redis.ts', 'packages/kit/src/throttle.ts', '**/live/socket-io.ts', 'packages/kit/src/banners/s3.ts', 'services/events/src/banners/sharp-images.ts', '**/test/**', 'tests/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            group: ['better-sqlite3', '@aws-sdk/*', 'socket.io', 'redis', '@redis/*', 'rate-limiter-flexible', '@socket.io/*', 'sharp'],
            message: 'Only adapter files (store/sqlite.ts, store/dynamodb.ts, kit redis.ts, throttle.ts and banners/s3.ts, live/socket-io.ts, events banners/sharp-images.ts) may import storage, transport or image SDKs.',
          },
        ],
      }],
    },
  },
);
