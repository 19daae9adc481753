// images/release.sh: which archives it pushes where, and that the helm line it prints installs
// exactly those images (--dry-run: no registry here; the copies are printed, not run).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { container, controller, render, webhook } from '../chart/helm.ts';
import { REPO, imagesDir } from './support.ts';
import { readImages } from '../cluster/images.ts';

const run = promisify(execFile);
const RELEASE = join(REPO, 'images/release.sh');

async function release(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [RELEASE, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('images/release.sh', () => {
  for (const [destination, registry, namespace] of [
    ['registry.example:5000/team/trust', 'registry.example:5000', 'team/trust'],
    ['registry.example', 'registry.example', ''],
  ] as const) {
    it(`pushes both archives to ${destination} and prints a helm line that installs them`, async () => {
      const images = readImages(await imagesDir());
      const r = await release(['--dry-run', destination]);
      assert.equal(r.code, 0, r.stderr);
      const pushed: string[] = [];
      for (const name of ['operator', 'package'] as const) {
        const target = `${destination}/${images[name].ref.split('/').at(-1)}`;
        assert.ok(r.stderr.includes(`skopeo copy --dest-tls-verify=true oci-archive:${images[name].archive} docker://${target}`), `${name} -> ${target}\n${r.stderr}`);
        pushed.push(target);
      }
      const helmLine = r.stdout.trimEnd().split('\n').at(-1) ?? '';
      assert.match(helmLine, /^helm upgrade --install trust-manager \S+\/charts\/trust-manager --namespace cert-manager --create-namespace /);
      const sets = [...helmLine.matchAll(/--set (\S+=\S*)/g)].map((m) => m[1]!);
      assert.deepEqual(sets, [`imageRegistry=${registry}`, `imageNamespace=${namespace}`]);
      const objects = await render({ set: sets });
      assert.equal(container(controller(objects)).image, pushed[0]);
      assert.equal(container(webhook(objects)).image, pushed[0]);
      assert.equal(controller(objects).spec.template.spec.initContainers?.[0]?.image, pushed[1]);
    });
  }

  it('refuses a destination that is not a registry path', async () => {
    const r = await release(['--dry-run', 'https://registry.example/x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a registry path/);
  });
});
