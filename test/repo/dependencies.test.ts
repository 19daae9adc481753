// Each package.json declares exactly what its files import: production dependencies are the packages
// the two processes load at run time (followed from controller/src/main.ts and webhook/src/main.ts),
// devDependencies everything else its files import (tests, benchmarks, generators, type-only imports).
// The image installs production dependencies only, so a wrong split either bloats it or breaks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
/** This file quotes import statements as test data. */
const thisFile = fileURLToPath(import.meta.url);
const PACKAGES = ['shared', 'controller', 'webhook', 'test', '.'] as const;
const ENTRY_POINTS = ['controller/src/main.ts', 'webhook/src/main.ts'];
const WORKSPACE_SCOPE = '@trust-manager/';
// dist: `pnpm build` output (gitignored), bundled copies of the dependencies.
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'charts', 'dist']);

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Static and dynamic imports and re-exports; `import type` / `export type` statements are type-only. */
export function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const statement = /^\s*(?:import|export)\s+(type\s+)?(?:[\w\s{},*$]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const match of source.matchAll(statement)) found.push({ specifier: match[2]!, typeOnly: match[1] !== undefined });
  for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1]!, typeOnly: false });
  for (const match of source.matchAll(/[rR]equire(?:\([^)]*\))?\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1]!, typeOnly: false });
  return found;
}

/** `@scope/name/deep/path.ts` => `@scope/name`; `name/deep` => `name`; relative and builtin => undefined. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function tsFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIPPED_DIRS.has(name) || path === thisFile) continue;
    if (statSync(path).isDirectory()) {
      // A workspace package's files belong to that package, not to the root.
      if (dir === root && (PACKAGES as readonly string[]).includes(name)) continue;
      files.push(...tsFiles(path));
    } else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

/** Where a workspace import points: `@trust-manager/shared/api/x.ts` => <root>/shared/src/api/x.ts. */
function workspaceFile(specifier: string): string | undefined {
  const match = /^@trust-manager\/(shared|controller|webhook)\/(.+)$/.exec(specifier);
  return match ? join(root, match[1]!, 'src', match[2]!) : undefined;
}

function packageOf(file: string): string {
  const top = relative(root, file).split('/')[0]!;
  return (PACKAGES as readonly string[]).includes(top) ? top : '.';
}

/** Packages loaded at run time, by the workspace package whose file imports them. */
function runtimeImports(): Map<string, Set<string>> {
  const byPackage = new Map<string, Set<string>>(PACKAGES.map((name) => [name, new Set<string>()]));
  const seen = new Set<string>();
  const pending = ENTRY_POINTS.map((entry) => join(root, entry));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (typeOnly) continue;
      const local = specifier.startsWith('.') ? resolve(dirname(file), specifier) : workspaceFile(specifier);
      if (local !== undefined) pending.push(local);
      const name = packageName(specifier);
      if (name !== undefined) byPackage.get(packageOf(file))!.add(name);
    }
  }
  return byPackage;
}

const runtime = runtimeImports();

for (const pkg of PACKAGES) {
  test(`${pkg === '.' ? 'the root' : pkg}/package.json declares exactly what its files import`, () => {
    const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const imported = new Set<string>();
    for (const file of tsFiles(join(root, pkg))) {
      for (const { specifier } of importsOf(readFileSync(file, 'utf8'))) {
        const name = packageName(specifier);
        // A package never imports itself by name; type packages come with what they type.
        if (name !== undefined && name !== manifest.name) imported.add(name);
      }
    }
    const production = [...runtime.get(pkg)!].filter((name) => name !== manifest.name).sort();
    const development = [...imported].filter((name) => !production.includes(name) && !name.startsWith('@types/')).sort();
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}).sort(), production, 'dependencies = what the processes load at run time');
    const declaredDev = Object.keys(manifest.devDependencies ?? {})
      .filter((name) => imported.has(name) || !TOOLING.has(name))
      .sort();
    assert.deepEqual(declaredDev, development, 'devDependencies = what tests, tools and type-only imports use');
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (name.startsWith(WORKSPACE_SCOPE)) assert.equal(manifest.dependencies![name], 'workspace:*', `${name} comes from the workspace`);
    }
  });
}

/** May be declared without being imported: tools used through their command line (pnpm scripts). */
const TOOLING = new Set(['eslint', 'typescript', '@types/node']);

test('importsOf finds static, type-only, dynamic and required imports', () => {
  const source = [
    "import { a } from 'one';",
    "import type { B } from 'two/deep';",
    'import {',
    '  c,',
    "} from '@scope/three/x.ts';",
    "import 'four';",
    "const x = await import('five');",
    "const y = createRequire(import.meta.url)('six');",
    "export { d } from './local.ts';",
  ].join('\n');
  assert.deepEqual(importsOf(source), [
    { specifier: 'one', typeOnly: false },
    { specifier: 'two/deep', typeOnly: true },
    { specifier: '@scope/three/x.ts', typeOnly: false },
    { specifier: 'four', typeOnly: false },
    { specifier: './local.ts', typeOnly: false },
    { specifier: 'five', typeOnly: false },
    { specifier: 'six', typeOnly: false },
  ]);
  assert.equal(packageName('@scope/three/x.ts'), '@scope/three');
  assert.equal(packageName('node:fs'), undefined);
});
