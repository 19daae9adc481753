// Derives the next default CA package from a built one, for upgrade tests (images/build.sh):
// the same bundle without its last certificate, under the next revision.
//
//   node next-package.ts --expected-tag <tag of the input image> --revision <n>  < package.json  > next.json
//
// --expected-tag fails when the input's version is not the one its image tag stands for (the
// chart's default package tag and the Debian ca-certificates of the build disagree).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { imageTag, makePackage, type Package } from './make-package.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

export function nextPackage(current: Package, revision: string): Package {
  const certificates = current.bundle.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length < 2) throw new Error(`package ${current.name} ${current.version} has fewer than 2 certificates`);
  const m = /^(.+)\.\d+$/.exec(current.version);
  if (!m) throw new Error(`package version ${JSON.stringify(current.version)} is not "<ca-certificates version>.<revision>"`);
  const release = current.name.replace(/^cert-manager-debian-/, '');
  return makePackage({ bundle: certificates.slice(0, -1).join(''), release, caVersion: m[1]!, revision });
}

if (import.meta.main) {
  try {
    const { values } = parseArgs({ options: { revision: { type: 'string' }, 'expected-tag': { type: 'string' } }, strict: true });
    if (values.revision === undefined || values['expected-tag'] === undefined) throw new Error('usage: next-package.ts --expected-tag <tag> --revision <n> < package.json');
    const current = JSON.parse(readFileSync(0, 'utf8')) as Package;
    if (imageTag(current.version) !== values['expected-tag']) {
      throw new Error(
        `the package image holds version ${current.version} (tag ${imageTag(current.version)}), but its tag is ${values['expected-tag']}: ` +
          'Debian ca-certificates changed; update defaultPackageImage._defaultReference in charts/trust-manager/values.yaml',
      );
    }
    const next = nextPackage(current, values.revision);
    process.stdout.write(`${JSON.stringify(next)}\n`);
    process.stderr.write(`next package: ${next.name} ${next.version} (image tag ${imageTag(next.version)})\n`);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
