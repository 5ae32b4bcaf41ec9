// typescript-eslint's type-aware recommended rules over the TypeScript in src/, test/ and bench/; the plain
// JavaScript (bench/ and scripts/ .mjs, this file) is linted without type information, as Node code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node's globals that the plain JavaScript files use (the `globals` package would be one more dependency).
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  performance: 'readonly',
  structuredClone: 'readonly',
  AbortController: 'readonly',
  TextEncoder: 'readonly',
  TextDecoder: 'readonly',
  fetch: 'readonly',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', 'test/fixtures/', 'templates/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      // Keeps projectService/project off: the TypeScript project does not include these files.
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: nodeGlobals,
    },
  },
);
