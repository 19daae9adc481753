// The lint rule that keeps the pure cores free of I/O (eslint.config.js) refuses what it should and
// lets through what it should: checked with the project's own rule configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const RULE = '@typescript-eslint/no-restricted-imports';

async function boundaryViolations(file: string, code: string): Promise<string[]> {
  const projectConfig = ((await import(new URL('../../eslint.config.js', import.meta.url).href)) as { default: Linter.Config[] }).default;
  const boundary = projectConfig.filter((block) => block.rules?.[RULE] !== undefined);
  assert.equal(boundary.length, 1, 'eslint.config.js has one pure-core boundary block');
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } }, ...boundary],
  });
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((message) => message.ruleId === RULE).map((message) => code.split('\n')[message.line - 1] ?? '');
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

const REFUSED = PROBE.split('\n').slice(0, 6);

test('controller/src/core: file system, network, cluster layer, logger and HTTP servers are refused; types and pure modules are not', async () => {
  assert.deepEqual(await boundaryViolations('controller/src/core/probe.ts', PROBE), REFUSED);
});

test("the webhook's pure validation is held to the same boundary", async () => {
  for (const file of ['webhook/src/validate.ts', 'webhook/src/admission.ts', 'webhook/src/inline-pem.ts']) {
    assert.deepEqual(await boundaryViolations(file, PROBE), REFUSED, file);
  }
});

test('the shell is not: the reconciler and the webhook server may do I/O', async () => {
  assert.deepEqual(await boundaryViolations('controller/src/reconciler.ts', PROBE), []);
  assert.deepEqual(await boundaryViolations('webhook/src/server.ts', PROBE), []);
});
