import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TEST_CERTIFICATE_1 } from '@trust-manager/shared/certs/testing/upstream-certificates.ts';
import { loadPackage, packageStringID, parsePackage } from './package.ts';

const dir = mkdtempSync(join(tmpdir(), 'package-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writePackage(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const VALID = { name: 'cert-manager-debian-trixie', version: '20250419.1', bundle: TEST_CERTIFICATE_1 };

test('a valid package loads; unknown fields are ignored', async () => {
  const path = writePackage('valid.json', JSON.stringify({ ...VALID, extra: 42 }));
  assert.deepEqual(await loadPackage(path), VALID);
});

test('a bundle without any PEM block is accepted', () => {
  assert.deepEqual(parsePackage(JSON.stringify({ ...VALID, bundle: 'not pem at all' })).bundle, 'not pem at all');
});

test('the path must end in .json (not wrapped)', async () => {
  await assert.rejects(loadPackage('/packages/package.yaml'), {
    message: `can't load package at path "/packages/package.yaml" since it doesn't have the required ".json" extension`,
  });
});

test('open errors are reported with the path (not wrapped)', async () => {
  const path = join(dir, 'missing.json');
  await assert.rejects(loadPackage(path), {
    message: `failed to open package on filesystem "${path}": open ${path}: no such file or directory`,
  });
});

test('invalid JSON, invalid bundle, empty name and empty version are rejected and wrapped', async () => {
  const cases: [string, string, RegExp | string][] = [
    ['bad-json.json', '{not json', /^failed to load package ".*bad-json\.json": failed to parse package JSON: /],
    [
      'bad-bundle.json',
      JSON.stringify({ ...VALID, bundle: '-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----' }),
      "package bundle failed validation: invalid PEM block in bundle: only CERTIFICATE blocks are permitted but found 'PRIVATE KEY'",
    ],
    ['no-name.json', JSON.stringify({ ...VALID, name: '' }), "package may not have an empty 'name'"],
    ['no-version.json', JSON.stringify({ version: undefined, name: 'n', bundle: '' }), "package may not have an empty 'version'"],
    ['wrong-type.json', JSON.stringify({ ...VALID, version: 1 }), /failed to parse package JSON: json: cannot unmarshal number/],
  ];
  for (const [file, content, expected] of cases) {
    const path = writePackage(file, content);
    const message = typeof expected === 'string' ? `failed to load package ${JSON.stringify(path)}: ${expected}` : expected;
    await assert.rejects(loadPackage(path), typeof message === 'string' ? { name: 'PackageError', message } : { message }, file);
  }
});

test('parsePackage without a path reports the unwrapped text', () => {
  assert.throws(() => parsePackage(JSON.stringify({ ...VALID, name: '' })), { message: "package may not have an empty 'name'" });
  assert.throws(() => parsePackage('[]'), { message: /^failed to parse package JSON: / });
  // Go decodes JSON null into the zero value: validation then reports the empty name.
  assert.throws(() => parsePackage('null'), { message: "package may not have an empty 'name'" });
  assert.throws(() => parsePackage(JSON.stringify({ ...VALID, name: '' }), 'p.json'), {
    message: `failed to load package "p.json": package may not have an empty 'name'`,
  });
});

test('field names match case-insensitively as Go encoding/json does', () => {
  assert.deepEqual(parsePackage(JSON.stringify({ Name: VALID.name, VERSION: VALID.version, bundle: VALID.bundle })), VALID);
});

test('StringID is <name>-<version>-<first 8 bytes of sha256(bundle) in hex>', () => {
  const digest = createHash('sha256').update(VALID.bundle).digest('hex');
  assert.equal(packageStringID(VALID), `cert-manager-debian-trixie-20250419.1-${digest.slice(0, 16)}`);
  assert.match(packageStringID({ name: 'asd', version: '123', bundle: '' }), /^asd-123-e3b0c44298fc1c14$/);
});
