// The images images/build.sh builds from the Dockerfile, opened from their OCI archives and run
// with podman: the contract of images.json, what the images hold (and what of the build machine
// they must not hold), and that both operator entrypoints and the package copier run as 65532
// on a read-only root filesystem.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CONTROLLER_NODE_FLAGS, GLIBC_TUNABLES, WEBHOOK_NODE_FLAGS } from '@trust-manager/controller/node-flags.ts';
import { WEBHOOK_PATH } from '@trust-manager/shared/api/constants.ts';
import { loggedFieldsIn } from '../cluster/processes.ts';
import { container, controller, render, webhook } from '../chart/helm.ts';
import { readChartImages } from '../../images/chart-images.ts';
import { ensureLoaded, imagesDir, podman, unpack, walk, type UnpackedImage } from './support.ts';
import { scratchDir } from '../cluster/scratch.ts';
import { readImages, type BuiltImages } from '../cluster/images.ts';

const HOST_EXTRA_CA_DIR = '/usr/local/share/ca-certificates';
const PACKAGE_JSON = '/debian-package/cert-manager-package-debian.json';
/** V8's code cache in the operator image (the Dockerfile's NODE_COMPILE_CACHE). */
const COMPILE_CACHE = '/app/compile-cache';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

interface Package {
  name: string;
  version: string;
  bundle: string;
}

const fingerprints = (pem: string): Set<string> => new Set((pem.match(PEM_CERTIFICATE) ?? []).map((c) => new X509Certificate(c).fingerprint256));

/** The CA certificates this build machine trusts beyond Debian's (a TLS-intercepting proxy's). */
function hostExtraCAs(): X509Certificate[] {
  if (!existsSync(HOST_EXTRA_CA_DIR)) return [];
  const files = readdirSync(HOST_EXTRA_CA_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.crt'));
  return files.flatMap((f) => (readFileSync(join(HOST_EXTRA_CA_DIR, f), 'utf8').match(PEM_CERTIFICATE) ?? []).map((c) => new X509Certificate(c)));
}

let scratch = '';
let images: BuiltImages;
let dir = '';
const unpacked: Partial<Record<keyof BuiltImages, UnpackedImage>> = {};

before(async () => {
  dir = await imagesDir();
  images = readImages(dir);
  scratch = scratchDir('tm-images-');
  for (const name of ['operator', 'package', 'packageNext', 'pause'] as const) unpacked[name] = await unpack(images[name].archive, scratch);
});

const image = (name: keyof BuiltImages): UnpackedImage => {
  const u = unpacked[name];
  assert.ok(u, `${name} unpacked`);
  return u;
};
const files = (name: keyof BuiltImages) => walk(image(name).rootfs);
const readIn = (name: keyof BuiltImages, path: string): string => readFileSync(join(image(name).rootfs, path), 'utf8');

describe('images.json (the contract with the node tests)', () => {
  it('names the chart default images, an upgrade of each and the pause image, each with an OCI archive named after its ref', async () => {
    assert.deepEqual(Object.keys(images).sort(), ['operator', 'operatorNext', 'package', 'packageNext', 'pause']);
    const chart = readChartImages();
    assert.equal(images.operator.ref, chart.operator.ref);
    assert.equal(images.package.ref, chart.package.ref);
    assert.equal(images.operatorNext.ref, chart.operatorNext.ref);
    assert.equal(images.packageNext.ref, chart.packageNext.ref);
    assert.equal(images.pause.ref, 'registry.k8s.io/pause:3.10');
    const objects = await render();
    assert.equal(container(controller(objects)).image, images.operator.ref, 'the chart installs exactly this image by default');
    for (const [name, { ref, archive }] of Object.entries(images)) {
      assert.ok(isAbsolute(archive) && archive.startsWith(dir) && existsSync(archive), `${name}: ${archive}`);
      if (name !== 'operatorNext') assert.equal(unpacked[name as keyof BuiltImages]?.refName, ref, `${name}: ctr imports it under its ref`);
    }
    const next = await unpack(images.operatorNext.archive, scratch);
    assert.equal(next.refName, images.operatorNext.ref);
  });
});

describe('operator image', () => {
  it('runs node as 65532 with the controller by default, the commands the chart uses', async () => {
    const { config } = image('operator');
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(config.Entrypoint, ['/nodejs/bin/node']);
    assert.deepEqual(config.Cmd, [...CONTROLLER_NODE_FLAGS, '/app/controller.js']);
    assert.ok(config.Env?.includes('NODE_ENV=production'));
    assert.ok(config.Env?.includes(`GLIBC_TUNABLES=${GLIBC_TUNABLES}`));
    assert.ok(config.Env?.includes(`NODE_COMPILE_CACHE=${COMPILE_CACHE}`));
    const objects = await render();
    assert.deepEqual(container(controller(objects)).command, [...config.Entrypoint, ...config.Cmd]);
    const webhookCommand = container(webhook(objects)).command ?? [];
    assert.deepEqual(webhookCommand.slice(0, 1), config.Entrypoint);
    for (const path of [config.Entrypoint[0]!, config.Cmd.at(-1)!, webhookCommand.at(-1)!]) {
      assert.ok(statSync(join(image('operator').rootfs, path)).isFile(), `${path} is in the image`);
    }
  });

  it('has no shell, no package manager and no npm or pnpm at all', () => {
    const forbidden = new Set(['sh', 'bash', 'dash', 'ash', 'busybox', 'apt', 'apt-get', 'dpkg', 'npm', 'npx', 'pnpm', 'corepack', 'yarn', 'perl']);
    const entries = files('operator');
    assert.deepEqual(entries.filter((e) => forbidden.has(e.path.split('/').at(-1)!)).map((e) => e.path), []);
    assert.deepEqual(entries.filter((e) => e.path.split('/').includes('node_modules')).map((e) => e.path), []);
    const executables = entries.filter((e) => e.kind === 'file' && (statSync(join(image('operator').rootfs, e.path)).mode & 0o111) !== 0);
    assert.deepEqual(executables.map((e) => e.path).filter((p) => !p.startsWith('/usr/lib/')), ['/nodejs/bin/node'], 'node is the only program');
  });

  it("ships compiled JavaScript and V8's code cache of it only: no TypeScript, tests, test helpers or build caches", () => {
    const app = files('operator').filter((e) => e.path.startsWith('/app/'));
    const appFiles = app.filter((e) => e.kind === 'file').map((e) => e.path);
    assert.ok(appFiles.includes('/app/controller.js') && appFiles.includes('/app/webhook.js'));
    const code = appFiles.filter((p) => !p.startsWith(`${COMPILE_CACHE}/`));
    assert.deepEqual(code.filter((p) => !/\.js$|\.LEGAL\.txt$|^\/app\/package\.json$/.test(p)), [], 'only .js, licence notices and the module-type package.json');
    // One directory per V8 flag set (controller, webhook), each for uid 65532.
    const cacheDirectories = readdirSync(join(image('operator').rootfs, COMPILE_CACHE));
    assert.equal(cacheDirectories.length, 2, cacheDirectories.join(' '));
    for (const directory of cacheDirectories) assert.match(directory, /^v24\.\d+\.\d+-x64-[0-9a-f]{8}-65532$/);
    const all = files('operator').map((e) => e.path);
    assert.deepEqual(all.filter((p) => /\.tsx?$|\.(test|bench)\./.test(p)), []);
    assert.deepEqual(all.filter((p) => p.split('/').some((s) => ['testing', 'test', 'tests', '.npm', '.pnpm-store', '.cache', 'pnpm', '.local'].includes(s))), []);
    assert.deepEqual(readdirSync(join(image('operator').rootfs, 'home/nonroot')), []);
    assert.equal(existsSync(join(image('operator').rootfs, 'root')), false);
  });

  it("trusts exactly Debian's CA certificates (the ones the package image ships)", () => {
    const certsDir = join(image('operator').rootfs, 'etc/ssl/certs');
    assert.deepEqual(readdirSync(certsDir), ['ca-certificates.crt']);
    const debian = JSON.parse(readIn('package', PACKAGE_JSON)) as Package;
    const inImage = fingerprints(readFileSync(join(certsDir, 'ca-certificates.crt'), 'utf8'));
    assert.ok(inImage.size > 100, `${inImage.size} certificates`);
    assert.deepEqual([...inImage].sort(), [...fingerprints(debian.bundle)].sort());
  });
});

describe('no file of the build machine', () => {
  const extraCAs = hostExtraCAs();
  it(`holds none of the build host's ${extraCAs.length} extra CA certificates (${HOST_EXTRA_CA_DIR}), in any file of any image`, { skip: extraCAs.length === 0 ? 'this host trusts no extra CA' : false }, () => {
    // A certificate can only hide as PEM (its base64 lines) or DER (its public key bytes).
    const needles = extraCAs.flatMap((ca) => {
      const base64 = ca.raw.toString('base64');
      return [Buffer.from(base64.slice(64, 128)), ca.publicKey.export({ type: 'spki', format: 'der' })];
    });
    for (const name of ['operator', 'package', 'packageNext', 'pause'] as const) {
      const trusted = name === 'pause' ? '' : name === 'operator' ? readIn(name, '/etc/ssl/certs/ca-certificates.crt') : (JSON.parse(readIn(name, PACKAGE_JSON)) as Package).bundle;
      const fps = fingerprints(trusted);
      for (const ca of extraCAs) assert.ok(!fps.has(ca.fingerprint256), `${name} trusts ${ca.subject}`);
      for (const entry of files(name)) {
        if (entry.kind !== 'file') continue;
        const content = readFileSync(join(image(name).rootfs, entry.path));
        for (const needle of needles) assert.equal(content.indexOf(needle), -1, `${name}:${entry.path} holds an extra CA of the build host`);
      }
    }
  });

  it('the package image holds the package, the copier and busybox, nothing of the build', () => {
    const paths = files('package').filter((e) => e.kind !== 'dir' && e.kind !== 'symlink').map((e) => e.path).sort();
    assert.deepEqual(paths, ['/bin/busybox', '/copier', '/copyandmaybepause', PACKAGE_JSON, '/etc/group', '/etc/passwd', '/usr/share/doc/busybox-static/copyright'].sort());
  });
});

describe('package images', () => {
  it('run the copier as 65532; the next package has another version and one CA fewer', () => {
    const { config } = image('package');
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(config.Entrypoint, ['/copier']);
    assert.deepEqual(config.Cmd, ['/debian-package', '/packages']);
    const current = JSON.parse(readIn('package', PACKAGE_JSON)) as Package;
    const next = JSON.parse(readIn('packageNext', PACKAGE_JSON)) as Package;
    assert.equal(current.name, 'cert-manager-debian-trixie');
    assert.equal(images.package.ref.split(':').at(-1), current.version.replace(/[+~]/g, '-'), 'tag = package version');
    assert.equal(images.packageNext.ref.split(':').at(-1), next.version.replace(/[+~]/g, '-'));
    assert.notEqual(next.version, current.version);
    assert.equal(fingerprints(next.bundle).size, fingerprints(current.bundle).size - 1);
  });
});

describe('running the images (podman, read-only root filesystem)', () => {
  const runImage = async (ref: string, args: string[], runArgs: string[] = []) =>
    podman(['run', '--rm', '--read-only', '--network', 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', ...runArgs, ref, ...args]);

  const ids: Partial<Record<keyof BuiltImages, string>> = {};
  const id = (name: keyof BuiltImages): string => ids[name] ?? assert.fail(`${name} not loaded`);
  before(async () => {
    for (const name of ['operator', 'package', 'pause'] as const) ids[name] = await ensureLoaded(images[name].archive, image(name));
  });

  it('the controller and the webhook print their help', async () => {
    const c = await runImage(id('operator'), ['/app/controller.js', '--help']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /--leader-election-namespace/);
    const w = await runImage(id('operator'), ['/app/webhook.js', '--help']);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /--webhook-certificate-dir/);
  });

  it("both entrypoints start from the image's code cache with the chart's flags, and read every module from it", async () => {
    for (const [flags, entrypoint] of [[CONTROLLER_NODE_FLAGS, '/app/controller.js'], [WEBHOOK_NODE_FLAGS, '/app/webhook.js']] as const) {
      const run = await runImage(id('operator'), [...flags, entrypoint, '--help'], ['-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE']);
      assert.equal(run.code, 0, run.stderr);
      const verdicts = [...run.stderr.matchAll(/V8 code cache for ESM file:\/\/(\S+) was (\w+)/g)].map(([, file, verdict]) => [file!, verdict!] as const);
      assert.ok(verdicts.some(([file]) => file === entrypoint), `${entrypoint} read from the cache:\n${run.stderr}`);
      assert.ok(verdicts.length >= 3, 'the entrypoint and its chunks');
      assert.deepEqual(verdicts.filter(([, verdict]) => verdict !== 'accepted'), [], run.stderr);
    }
  });

  it('runs as 65532 by default, and under an arbitrary UID with GID 0 (OpenShift restricted-v2)', async () => {
    const who = await runImage(id('operator'), ['-e', 'console.log(process.getuid(), process.getgid())']);
    assert.equal(who.stdout.trim(), '65532 65532', who.stderr);
    const openshift = await runImage(id('operator'), ['/app/controller.js', '--help'], ['--user', '1000680000:0']);
    assert.equal(openshift.code, 0, openshift.stderr);
    assert.equal(openshift.stderr, '', 'a code cache made for another uid is ignored quietly');
  });

  it('the webhook serves admissions over TLS from the image', async () => {
    const tls = mkdtempSync(join(scratch, 'tls-'));
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', join(tls, 'tls.key'), '-out', join(tls, 'tls.crt')]);
    chmodSync(tls, 0o755); // readable by the container's 65532, like a Secret volume
    chmodSync(join(tls, 'tls.key'), 0o644);
    const name = `tm-images-webhook-${process.pid}`;
    const started = await podman(['run', '-d', '--name', name, '--read-only', '--network', 'host', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-v', `${tls}:/tls:ro`,
      id('operator'), '/app/webhook.js', '--webhook-host=127.0.0.1', '--webhook-port=0', '--readiness-probe-port=0', '--metrics-port=0']);
    assert.equal(started.code, 0, started.stderr);
    try {
      let serving: Record<string, unknown> | undefined;
      let ready = false;
      for (let i = 0; i < 150 && !ready; i++) {
        serving ??= loggedFieldsIn((await podman(['logs', name])).stdout, 'webhook serving');
        ready = serving !== undefined && (await fetch(`http://127.0.0.1:${String(serving.probePort)}/readyz`).catch(() => undefined))?.status === 200;
        if (!ready) await sleep(100);
      }
      const logs = await podman(['logs', name]);
      assert.ok(ready, `webhook not ready:\n${logs.stdout}${logs.stderr}`);
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'images-test',
          operation: 'CREATE',
          kind: { group: 'trust.cert-manager.io', version: 'v1alpha1', kind: 'Bundle' },
          object: { apiVersion: 'trust.cert-manager.io/v1alpha1', kind: 'Bundle', metadata: { name: 'b' }, spec: { sources: [{ useDefaultCAs: true }], target: { configMap: { key: 'ca.crt' } } } },
        },
      };
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(serving!.port), path: WEBHOOK_PATH, method: 'POST', servername: 'localhost', ca: readFileSync(join(tls, 'tls.crt')), headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
        });
        req.on('error', reject).end(JSON.stringify(review));
      });
      assert.deepEqual((JSON.parse(answer) as { response: { uid: string; allowed: boolean } }).response.allowed, true, answer);
    } finally {
      await podman(['rm', '-f', name]);
    }
  });

  it('has no /bin/sh to run', async () => {
    const sh = await runImage(id('operator'), ['-c', 'true'], ['--entrypoint', '/bin/sh']);
    assert.notEqual(sh.code, 0);
  });

  it('the package copier copies the package into a volume', async () => {
    const out = mkdtempSync(join(scratch, 'packages-'));
    chmodSync(out, 0o777);
    const copied = await runImage(id('package'), [], ['-v', `${out}:/packages`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stderr, /successfully copied \/debian-package\/cert-manager-package-debian\.json/);
    assert.equal(readFileSync(join(out, 'cert-manager-package-debian.json'), 'utf8'), readIn('package', PACKAGE_JSON));
    const deprecated = await runImage(id('package'), ['/copyandmaybepause', '/debian-package', '/packages'], ['-v', `${out}:/packages`]);
    assert.equal(deprecated.code, 0, deprecated.stderr);
    assert.match(deprecated.stderr, /DEPRECATED/);
  });

  it('pause is a static program that runs as 65535', async () => {
    const { config } = image('pause');
    assert.deepEqual(config.Entrypoint, ['/pause']);
    assert.equal(config.User, '65535:65535');
    const version = await runImage(id('pause'), ['-v']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^pause\.c v3\.10/);
  });
});
