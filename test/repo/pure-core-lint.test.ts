// The import rules of eslint.config.js refuse what they should and let through what they should,
// checked with the project's own rule configuration: the pure cores stay free of I/O, and product code
// loads node:http, node:fs and node:util without their eager module namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const RULE = '@typescript-eslint/no-restricted-imports';

/** The lines of `code` the import rules refuse in `file`, each with the rule's reason: "core" or "namespace". */
async function boundaryViolations(file: string, code: string): Promise<string[]> {
  const projectConfig = ((await import(new URL('../../eslint.config.js', import.meta.url).href)) as { default: Linter.Config[] }).default;
  const blocks = projectConfig.filter((block) => block.rules?.[RULE] !== undefined);
  assert.equal(blocks.length, 2, 'eslint.config.js has the product block and the pure-core block');
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } }, ...blocks],
  });
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === RULE)
    .map((message) => `${code.split('\n')[message.line - 1] ?? ''} -- ${message.message.includes('pure core') ? 'core' : 'namespace'}`);
}

const PROBE = [
  "import { readFileSync } from 'node:fs';",
  "import { request } from 'http';",
  "import { KubeClient } from '../kube/client.ts';",
  "import { createLogger } from '@trust-manager/shared/logging/logging.ts';",
  "import { servePlain } from '@trust-manager/shared/http/plain-server.ts';",
  "import { pino } from 'pino';",
  "import type { KubeObject } from '../kube/object.ts';",
  "import type { V1Secret } from '@kubernetes/client-node';",
  "import { createHash } from 'node:crypto';",
  "import { CertPool } from '@trust-manager/shared/certs/pool.ts';",
  'export const used = [readFileSync, request, KubeClient, createLogger, servePlain, pino, createHash, CertPool];',
  'export type Used = KubeObject | V1Secret;',
].join('\n');

const lines = PROBE.split('\n');
const REFUSED = lines.slice(0, 6).map((line) => `${line} -- core`);

test('controller/src/core: file system, network, cluster layer, logger and HTTP servers are refused; types and pure modules are not', async () => {
  assert.deepEqual(await boundaryViolations('controller/src/core/probe.ts', PROBE), REFUSED);
});

test("the webhook's pure validation is held to the same boundary", async () => {
  for (const file of ['webhook/src/validate.ts', 'webhook/src/admission.ts', 'webhook/src/inline-pem.ts']) {
    assert.deepEqual(await boundaryViolations(file, PROBE), REFUSED, file);
  }
});

test('the shell is not: the reconciler and the webhook server may do I/O, loading fs and http without an import', async () => {
  for (const file of ['controller/src/reconciler.ts', 'webhook/src/server.ts']) {
    assert.deepEqual(await boundaryViolations(file, PROBE), [`${lines[0]} -- namespace`, `${lines[1]} -- namespace`], file);
  }
});

const NAMESPACE_PROBE = [
  "import { isDeepStrictEqual } from 'node:util';",
  "import * as fs from 'fs';",
  "import type { Server } from 'node:http';",
  "import { X509Certificate } from 'node:crypto';",
  "const { createServer } = process.getBuiltinModule('node:http');",
  'export const used = [isDeepStrictEqual, fs, X509Certificate, createServer];',
  'export type Used = Server;',
].join('\n');

test('node:http, node:fs and node:util: an import is refused in product code (core included), type imports and tests are not', async () => {
  const refused = NAMESPACE_PROBE.split('\n').slice(0, 2);
  assert.deepEqual(await boundaryViolations('shared/src/kube/probe.ts', NAMESPACE_PROBE), refused.map((line) => `${line} -- namespace`));
  assert.deepEqual(await boundaryViolations('controller/src/core/probe.ts', NAMESPACE_PROBE), [`${refused[0]} -- namespace`, `${refused[1]} -- core`]);
  assert.deepEqual(await boundaryViolations('controller/src/reconciler.test.ts', NAMESPACE_PROBE), []);
  assert.deepEqual(await boundaryViolations('webhook/src/testing/probe.ts', NAMESPACE_PROBE), []);
});
