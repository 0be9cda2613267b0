// Lint, including the layering rules of STYLE.md: the contract imports neither Node nor the
// DOM; the renderer imports main only as types; one file imports onnxruntime-node and one
// module owns better-sqlite3; nothing in main imports Electron outside main/electron.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
  'stream',
  'url',
  'util',
  'worker_threads',
  'zlib',
];

/** What no contract module imports (the contract is pure: no Node, no DOM, no app code). */
const contractPaths = [
  ...nodeBuiltins.map((name) => ({
    name,
    message: 'The contract imports neither Node nor the DOM.',
  })),
  { name: 'electron', message: 'The contract imports neither Node nor the DOM.' },
  { name: 'react', message: 'The contract imports neither Node nor the DOM.' },
];
const contractPatterns = [
  { group: ['node:*'], message: 'The contract imports neither Node nor the DOM.' },
  {
    group: ['**/main/**', '**/renderer/**'],
    message: 'The contract imports nothing from main or the renderer.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'node_modules/**',
      'test-results/**',
      'models/**',
      'tests/fixtures/**',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'onnxruntime-node',
              message: 'Only main/runtime/onnx.ts may import onnxruntime-node.',
            },
            {
              name: 'better-sqlite3',
              message: 'Only main/db/connection.ts owns the database connection.',
              allowTypeImports: true,
            },
            {
              name: 'electron',
              message: 'Only main/electron/** and preload/index.ts may import electron.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    name: 'the door to onnxruntime',
    files: ['main/runtime/onnx.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'better-sqlite3', message: 'Only main/db/connection.ts owns the database.' },
            { name: 'electron', message: 'No electron here.' },
          ],
        },
      ],
    },
  },
  {
    name: 'the database owner',
    files: ['main/db/connection.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'onnxruntime-node',
              message: 'Only main/runtime/onnx.ts imports onnxruntime-node.',
            },
            { name: 'electron', message: 'No electron here.' },
          ],
        },
      ],
    },
  },
  {
    name: 'electron entry and preload',
    files: [
      'main/electron/**/*.ts',
      'preload/index.ts',
      'tests/unit/electron/**/*.ts',
      'tests/unit/preload/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'onnxruntime-node',
              message: 'Only main/runtime/onnx.ts imports onnxruntime-node.',
            },
            {
              name: 'better-sqlite3',
              message: 'Only main/db/connection.ts owns the database.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    name: 'the contract is pure',
    files: ['preload/contract/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: contractPaths,
          patterns: contractPatterns,
        },
      ],
    },
  },
  {
    name: 'the contract the page runs',
    // what the renderer imports as values (its barrel only as types): no zod, whose schemas
    // would be built when the page loads (errors.ts: for the index readers, which load no zod)
    files: [
      'preload/contract/binary.ts',
      'preload/contract/bridgeStatus.ts',
      'preload/contract/errors.ts',
      'preload/contract/exportSizes.ts',
      'preload/contract/httpCalls.ts',
      'preload/contract/limits.ts',
      'preload/contract/mapWire.ts',
      'preload/contract/modelNames.ts',
      'preload/contract/sweepMath.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...contractPaths,
            { name: 'zod', message: 'The page runs this module: no zod.', allowTypeImports: true },
          ],
          patterns: contractPatterns,
        },
      ],
    },
  },
  {
    name: 'the renderer runs in the page',
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'The renderer runs in the page: no Node modules.',
            })),
            { name: 'electron', message: 'The renderer reaches main only through the client.' },
            {
              name: 'onnxruntime-node',
              message: 'The renderer reaches main only through the client.',
            },
            {
              name: 'better-sqlite3',
              message: 'The renderer reaches main only through the client.',
            },
          ],
          patterns: [
            { group: ['node:*'], message: 'The renderer runs in the page: no Node modules.' },
            {
              group: ['**/main/**'],
              message: 'The renderer imports main only as types.',
              allowTypeImports: true,
            },
            {
              // the barrel builds every schema of the contract (zod) when the page loads
              regex: '^(\\.\\./)+preload/contract(/index)?$',
              message:
                'The renderer imports the contract barrel only as types: values come from its zod-free modules (binary, mapWire, sweepMath, limits, …).',
              allowTypeImports: true,
            },
            {
              regex: '^zod$',
              message: 'The page builds no zod schemas (they cost the cold start).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
