import { readdirSync } from 'node:fs';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** Storage, transport and image SDKs: only adapter files import them (rule below). */
const sdkImports = {
  group: ['better-sqlite3', '@aws-sdk/*', 'socket.io', 'redis', '@redis/*', 'rate-limiter-flexible', '@socket.io/*', 'sharp'],
  message:
    'Only adapter files (store/sqlite.ts, store/dynamodb.ts, kit redis.ts, throttle.ts and banners/s3.ts, live/socket-io.ts, events banners/sharp-images.ts) may import storage, transport or image SDKs.',
};

/**
 * The web app's layers, as Bulletproof React draws them: shared code (components/, lib/) ← features ← app.
 * Each feature is a folder under web/src/features; one feature never reaches into another, and the app uses a
 * feature only through its entry (features/<name>/index.ts). What two features need lives in components/ or lib/.
 * ESLint applies one `no-restricted-imports` per file (the last that matches), so each zone repeats the SDK rule.
 */
const webFeatures = readdirSync(new URL('./web/src/features', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const parentImports = { group: ['../*'], message: 'Import through `@/` (web/src) rather than up the folder tree.' };
const webZones = [
  {
    files: ['web/src/components/**', 'web/src/lib/**'],
    patterns: [{ group: ['@/features', '@/features/*', '@/app', '@/app/*'], message: 'components/ and lib/ are shared by every feature: they import no feature and not the app.' }],
  },
  ...webFeatures.flatMap((feature) => {
    const noApp = { group: ['@/app', '@/app/*'], message: 'Features do not import the app: the app composes features, not the other way round.' };
    return [
      {
        files: [`web/src/features/${feature}/**`],
        patterns: [
          {
            group: ['@/features/*', `!@/features/${feature}`],
            message: 'A feature does not import another feature: move what both need to components/ or lib/, or let the app compose them.',
          },
          noApp,
        ],
      },
      {
        // A test may render its feature beside another one the way the app composes them (the waiting room around
        // the ticket list, the events page showing a new banner), through that feature's entry only.
        files: [`web/src/features/${feature}/**/*.test.{ts,tsx}`],
        patterns: [
          { group: ['@/features/*/*', `!@/features/${feature}/*`], message: 'A test uses another feature through its entry (features/<name>/index.ts), not its internals.' },
          noApp,
        ],
      },
    ];
  }),
  {
    files: ['web/src/app/**', 'web/src/main.tsx'],
    patterns: [{ group: ['@/features/*/*'], message: 'The app uses a feature through its entry (features/<name>/index.ts), not its internals.' }],
  },
].map(({ files, patterns }) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns: [sdkImports, parentImports, ...patterns] }] } }));

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
    ignores: [
      '**/store/sqlite.ts',
      '**/store/dynamodb.ts',
      'packages/kit/src/sqlite.ts',
      'packages/kit/src/dynamodb.ts',
      'packages/kit/src/dynamodb/**',
      'packages/kit/src/redis.ts',
      'packages/kit/src/throttle.ts',
      '**/live/socket-io.ts',
      'packages/kit/src/banners/s3.ts',
      'services/events/src/banners/sharp-images.ts',
      '**/test/**',
      'tests/**',
      'bench/**',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: [sdkImports] }],
    },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
    rules: { ...reactHooks.configs.flat.recommended.rules, 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    ...jsxA11y.flatConfigs.recommended,
    // `role` on our own components (RequireAuth's user role) is a prop, not an ARIA role; DOM elements are still checked.
    rules: { ...jsxA11y.flatConfigs.recommended.rules, 'jsx-a11y/aria-role': ['error', { ignoreNonDOM: true }] },
  },
  ...webZones,
);
