// Builds the default CA package (docs/upstream-compatibility.md §5) from the Debian ca-certificates bundle:
//   {"name": "cert-manager-debian-<release>", "bundle": "<PEM>", "version": "<ca-certificates version>.<revision>"}
// Runs in the Dockerfile's debian-package stage; self-contained (node: built-ins only).
//
//   node make-package.ts [--bundle /etc/ssl/certs/ca-certificates.crt] [--release <codename>]
//                        [--ca-version <v>] [--expected-version <v>] [--revision <n>] [--out <file>]
//
// --release defaults to VERSION_CODENAME of /etc/os-release, --ca-version to the installed
// ca-certificates (dpkg-query), --revision to 1 (bump it to re-release the same Debian version).
// --expected-version fails the build when the installed ca-certificates differs. Without --out the
// JSON goes to stdout. Every PEM block of the bundle must be a certificate that parses.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

export interface Package {
  name: string;
  bundle: string;
  version: string;
}

export const DEFAULT_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** VERSION_CODENAME from an os-release file's text. */
export function releaseCodename(osRelease: string): string {
  const m = /^VERSION_CODENAME=["']?([^"'\n]*)["']?$/m.exec(osRelease);
  if (!m?.[1]) throw new Error('os-release has no VERSION_CODENAME: pass --release');
  return m[1];
}

/** The installed version of a Debian package. */
export function installedVersion(pkg = 'ca-certificates'): string {
  const out = execFileSync('dpkg-query', ['--show', '--showformat=${Version}', pkg], { encoding: 'utf8' }).trim();
  if (out === '') throw new Error(`${pkg} is not installed`);
  return out;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Counts the certificates of a PEM bundle; throws on a block that is not a parsable certificate. */
export function countCertificates(bundle: string): number {
  let count = 0;
  for (const m of bundle.matchAll(PEM_BLOCK)) {
    if (m[1] !== 'CERTIFICATE') throw new Error(`bundle contains a "${m[1]}" PEM block; only certificates are allowed`);
    try {
      new X509Certificate(m[0]);
    } catch (err) {
      throw new Error(`certificate #${count + 1} of the bundle does not parse: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    count++;
  }
  if (count === 0) throw new Error('bundle contains no certificates');
  return count;
}

export function makePackage(opts: { bundle: string; release: string; caVersion: string; revision: string }): Package {
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(opts.release)) throw new Error(`invalid release name ${JSON.stringify(opts.release)}`);
  if (opts.caVersion === '') throw new Error('empty ca-certificates version');
  if (!/^\d+$/.test(opts.revision)) throw new Error(`--revision must be a non-negative integer, got ${JSON.stringify(opts.revision)}`);
  countCertificates(opts.bundle);
  return { name: `cert-manager-debian-${opts.release}`, bundle: opts.bundle, version: `${opts.caVersion}.${opts.revision}` };
}

/** The package image tag upstream derives from the version: "+" and "~" become "-". */
export function imageTag(version: string): string {
  return version.replace(/[+~]/g, '-');
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string', default: DEFAULT_BUNDLE },
      release: { type: 'string' },
      'ca-version': { type: 'string' },
      'expected-version': { type: 'string' },
      revision: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const caVersion = values['ca-version'] ?? installedVersion();
  const expected = values['expected-version'];
  if (expected !== undefined && expected !== '' && expected !== caVersion) {
    throw new Error(`expected ca-certificates ${expected}, found ${caVersion}`);
  }
  const pkg = makePackage({
    bundle: readFileSync(values.bundle, 'utf8'),
    release: values.release ?? releaseCodename(readFileSync('/etc/os-release', 'utf8')),
    caVersion,
    revision: values.revision,
  });
  const json = `${JSON.stringify(pkg)}\n`;
  if (values.out === undefined) {
    process.stdout.write(json);
  } else {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, json, { mode: 0o644 });
  }
  process.stderr.write(
    `${values.out ?? 'stdout'}: ${pkg.name} ${pkg.version} (image tag ${imageTag(pkg.version)}), ${countCertificates(pkg.bundle)} certificates\n`,
  );
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
