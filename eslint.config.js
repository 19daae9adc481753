// Lint: typescript-eslint's type-aware rules; floating promises are the classic operator bug.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Decision code: no file system, network, cluster client, logger or metrics (docs/architecture.md). */
const PURE_CORE_FILES = ['controller/src/core/**/*.ts', 'webhook/src/validate.ts', 'webhook/src/admission.ts', 'webhook/src/inline-pem.ts'];
const NODE_IO = ['fs', 'fs/promises', 'http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns', 'child_process', 'os'];
const IO_MODULES = [...NODE_IO.flatMap((name) => [name, `node:${name}`]), '@kubernetes/client-node', 'pino', 'pino-pretty', 'fastify', 'prom-client'];
const PURE_CORE_MESSAGE = 'pure core: decide here, do I/O in the shell (docs/architecture.md, "Pure core, thin shell")';

/** Product code: what the images run (tests and test helpers excluded). */
const PRODUCT_FILES = ['shared/src/**/*.ts', 'controller/src/**/*.ts', 'webhook/src/**/*.ts'];
const NOT_PRODUCT = ['**/*.test.ts', '**/testing/**'];
/**
 * Built-ins whose ES module namespace costs memory: importing one evaluates every lazy export, and
 * node:http's WebSocket getter alone loads Node's bundled undici (4-6 MB RSS per process).
 */
const EAGER_NAMESPACE_BUILTINS = ['http', 'fs', 'util'].flatMap((name) => [name, `node:${name}`]);
const EAGER_NAMESPACE_MESSAGE =
  "use `const { ... } = process.getBuiltinModule('node:<name>')`: an import evaluates every lazy export of this built-in (docs/performance.md, \"Where the controller's memory goes\")";
const eagerNamespacePaths = (except = []) =>
  EAGER_NAMESPACE_BUILTINS.filter((name) => !except.includes(name)).map((name) => ({ name, message: EAGER_NAMESPACE_MESSAGE, allowTypeImports: true }));

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'charts/**', '**/*.d.ts', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: PRODUCT_FILES,
    ignores: NOT_PRODUCT,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: eagerNamespacePaths() }] },
  },
  {
    // The pure cores decide; the shell does I/O. This keeps the boundary without anyone watching it.
    // Type-only imports are fine (they vanish at run time).
    files: PURE_CORE_FILES,
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          // (This entry replaces the one above for these files, so it repeats the built-ins it does not already forbid.)
          paths: [...IO_MODULES.map((name) => ({ name, message: PURE_CORE_MESSAGE, allowTypeImports: true })), ...eagerNamespacePaths(IO_MODULES)],
          patterns: [{ group: ['**/kube/*', '**/logging/*', '**/http/*'], message: PURE_CORE_MESSAGE, allowTypeImports: true }],
        },
      ],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
