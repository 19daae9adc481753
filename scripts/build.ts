// Compiles the two processes to JavaScript for production: `pnpm build` (the Dockerfile runs the same).
//
//   node scripts/build.ts [--outdir dist]
//
// esbuild bundles each entrypoint, following its import graph (workspace packages and npm
// dependencies alike), into <outdir>/controller.js and <outdir>/webhook.js. Code both share and
// code loaded on demand (`import()`, e.g. @kubernetes/client-node for exec/auth-provider
// kubeconfigs) go to <outdir>/chunks/, loaded only when reached. The output needs Node 24 and
// nothing else: no node_modules, no type stripping, and one file to read and compile at start-up
// instead of hundreds of modules (docs/performance.md, "Start-up and idle memory").
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Entrypoints: output name (without .js) -> source. */
export const ENTRYPOINTS: Readonly<Record<string, string>> = {
  controller: 'controller/src/main.ts',
  webhook: 'webhook/src/main.ts',
};

/**
 * `createRequire(import.meta.url)(<package>)` loads a dependency synchronously on first use. esbuild
 * cannot see through createRequire, so in the bundle it becomes a plain `require(<package>)`: the same
 * resolution, but bundled and still evaluated only when first called.
 */
const CREATE_REQUIRE_CALL = /\bcreateRequire\(import\.meta\.url\)\((['"][^'"]+['"])\)/g;

const lazyRequire: Plugin = {
  name: 'lazy-require',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      const contents = source.replace(CREATE_REQUIRE_CALL, 'require($1)');
      return contents === source ? undefined : { contents, loader: 'ts' };
    });
  },
};

/** Builds into `outdir` (emptied first); returns the JavaScript files written with their sizes. */
export async function buildAll(outdir: string): Promise<string[]> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: Object.entries(ENTRYPOINTS).map(([out, src]) => ({ out, in: src })),
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // Packages published as CommonJS still call require() for Node built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [lazyRequire],
    // Minified: 8 MB instead of 20 MB (client-node's generated code is mostly whitespace) and 3 MB
    // less RSS. Function and class names stay, so stack traces still name their frames.
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    legalComments: 'linked',
    sourcemap: false,
    logLevel: 'warning',
    metafile: true,
  });
  // ES modules without a package.json around them would be detected as such only after a failed
  // CommonJS parse: say it.
  writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n');
  return Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, { bytes }]) => `${file} ${(bytes / 1024).toFixed(0)} KiB`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } }, strict: true });
  const written = await buildAll(fileURLToPath(new URL(values.outdir, `file://${REPO}`)));
  process.stderr.write(`${written.join('\n')}\n`);
}
