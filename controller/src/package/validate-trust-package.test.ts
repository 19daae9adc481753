import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const command = fileURLToPath(new URL('./validate-trust-package.ts', import.meta.url));
const validate = (input: string) => spawnSync(process.execPath, [command], { input, encoding: 'utf8' });

test('a valid package (the machine Debian bundle) passes silently', () => {
  const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  const result = validate(JSON.stringify({ name: 'cert-manager-debian-bookworm', version: '20230311.0', bundle }));
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
});

test('an invalid package exits 1 with the upstream prefix and reason', () => {
  const result = validate(JSON.stringify({ name: '', version: '1', bundle: '' }));
  assert.equal(result.status, 1);
  assert.equal(result.stderr, "failed to load and validate trust package: package may not have an empty 'name'\n");
  const broken = validate('{not json');
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /^failed to load and validate trust package: failed to parse package JSON: /);
});
