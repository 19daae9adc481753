// images/package/make-package.ts on this machine's Debian ca-certificates bundle.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadPackage, packageStringID } from '@trust-manager/controller/package/package.ts';
import { DEFAULT_BUNDLE, countCertificates, imageTag, makePackage, releaseCodename } from '../../images/package/make-package.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../images/package/make-package.ts', import.meta.url));

async function makePackageCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const certCount = (pem: string): number => pem.split('-----BEGIN CERTIFICATE-----').length - 1;

interface PackageJson {
  name: string;
  version: string;
  bundle: string;
}

describe('make-package on the Debian bundle of this machine', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tm-package-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has a Debian bundle to work on', () => {
    assert.ok(existsSync(DEFAULT_BUNDLE), `${DEFAULT_BUNDLE} is missing: install ca-certificates`);
  });

  it('writes name, version and the bundle verbatim', async () => {
    const out = join(dir, 'nested', 'cert-manager-package-debian.json');
    const { code, stderr } = await makePackageCli(['--out', out]);
    assert.equal(code, 0, stderr);
    const pkg = JSON.parse(readFileSync(out, 'utf8')) as PackageJson;
    const codename = releaseCodename(readFileSync('/etc/os-release', 'utf8'));
    const debVersion = execFileSync('dpkg-query', ['--show', '--showformat=${Version}', 'ca-certificates'], { encoding: 'utf8' });
    assert.deepEqual(Object.keys(pkg), ['name', 'bundle', 'version']);
    assert.equal(pkg.name, `cert-manager-debian-${codename}`);
    assert.equal(pkg.version, `${debVersion}.1`);
    const bundle = readFileSync(DEFAULT_BUNDLE, 'utf8');
    assert.equal(pkg.bundle, bundle);
    assert.ok(certCount(bundle) > 50, 'a Debian bundle has well over 50 CAs');
    assert.equal(certCount(pkg.bundle), certCount(bundle));
    assert.equal(countCertificates(pkg.bundle), certCount(bundle));
    assert.match(stderr, new RegExp(`${certCount(bundle)} certificates`));
    assert.match(stderr, new RegExp(`image tag ${imageTag(pkg.version).replace(/[.+]/g, '\\$&')}`));
  });

  it('is loadable by the controller (controller/src/package/package.ts)', async () => {
    const out = join(dir, 'cert-manager-package-debian.json');
    const { code, stderr } = await makePackageCli(['--out', out, '--release', 'trixie', '--ca-version', '20250419', '--revision', '2']);
    assert.equal(code, 0, stderr);
    const pkg = await loadPackage(out);
    assert.equal(pkg.name, 'cert-manager-debian-trixie');
    assert.equal(pkg.version, '20250419.2');
    assert.equal(pkg.bundle, readFileSync(DEFAULT_BUNDLE, 'utf8'));
    assert.match(packageStringID(pkg), /^cert-manager-debian-trixie-20250419\.2-[0-9a-f]{16}$/);
  });

  it('writes to stdout without --out', async () => {
    const { code, stdout } = await makePackageCli(['--release', 'trixie', '--ca-version', '20250419']);
    assert.equal(code, 0);
    const pkg = JSON.parse(stdout) as PackageJson;
    assert.equal(pkg.version, '20250419.1');
  });

  it('fails when the installed ca-certificates is not the expected one', async () => {
    const { code, stderr } = await makePackageCli(['--expected-version', '19990101', '--out', join(dir, 'x.json')]);
    assert.equal(code, 1);
    assert.match(stderr, /^error: expected ca-certificates 19990101, found \S+/);
    assert.equal(existsSync(join(dir, 'x.json')), false);
  });

  it('rejects a bundle that is not only certificates', async () => {
    const bad = join(dir, 'bad.crt');
    writeFileSync(bad, `${readFileSync(DEFAULT_BUNDLE, 'utf8')}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`);
    const { code, stderr } = await makePackageCli(['--bundle', bad, '--release', 'trixie', '--ca-version', '1']);
    assert.equal(code, 1);
    assert.match(stderr, /error: bundle contains a "PRIVATE KEY" PEM block/);
  });
});

describe('make-package units', () => {
  const oneCert = readFileSync(DEFAULT_BUNDLE, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;

  it('builds the upstream name and version', () => {
    assert.deepEqual(makePackage({ bundle: oneCert, release: 'trixie', caVersion: '20250419', revision: '1' }), {
      name: 'cert-manager-debian-trixie',
      bundle: oneCert,
      version: '20250419.1',
    });
    assert.equal(makePackage({ bundle: oneCert, release: 'bookworm', caVersion: '20230311+deb12u1', revision: '5' }).version, '20230311+deb12u1.5');
  });

  it('rejects empty bundles, undecodable certificates and bad arguments', () => {
    assert.throws(() => countCertificates(''), /no certificates/);
    assert.throws(() => countCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /certificate #1 of the bundle does not parse/);
    assert.throws(() => makePackage({ bundle: oneCert, release: 'trixie', caVersion: '1', revision: 'x' }), /--revision/);
    assert.throws(() => makePackage({ bundle: oneCert, release: 'Trixie!', caVersion: '1', revision: '1' }), /invalid release/);
    assert.throws(() => makePackage({ bundle: oneCert, release: 'trixie', caVersion: '', revision: '1' }), /empty ca-certificates version/);
  });

  it('derives image tags and release names as upstream', () => {
    assert.equal(imageTag('20230311+deb12u1.5'), '20230311-deb12u1.5');
    assert.equal(imageTag('20250419~bpo1.1'), '20250419-bpo1.1');
    assert.equal(releaseCodename('NAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\n'), 'trixie');
    assert.equal(releaseCodename('VERSION_CODENAME="bookworm"\n'), 'bookworm');
    assert.throws(() => releaseCodename('NAME=x\n'), /VERSION_CODENAME/);
  });
});
