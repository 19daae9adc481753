// The images images/build.sh makes, opened for tests: images.json, each OCI archive unpacked into a
// root filesystem (layers applied in order, whiteouts honoured), and podman with the build's
// private containers config to run them.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES_CACHE = join(process.env.TM_CACHE ?? join(homedir(), '.cache', 'trust-manager-ts'), 'images');


/**
 * The output directory of images/build.sh: $TM_IMAGES_DIR when the test command built the images
 * already (outside the test network namespace), else a run of the script (cached: seconds).
 */
export async function imagesDir(): Promise<string> {
  if (process.env.TM_IMAGES_DIR) return process.env.TM_IMAGES_DIR;
  const { stdout } = await run('bash', [join(REPO, 'images/build.sh')], { maxBuffer: 256 * 1024 * 1024 });
  const last = stdout.trimEnd().split('\n').at(-1);
  if (!last) throw new Error('images/build.sh printed nothing on stdout');
  return last;
}

export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
}

export interface UnpackedImage {
  /** The image ID (config digest, hex): what podman runs, whatever the names point at now. */
  id: string;
  /** org.opencontainers.image.ref.name of the archive's index: the name `ctr images import` gives it. */
  refName: string | undefined;
  config: ImageConfig;
  rootfs: string;
}

const blob = (dir: string, digest: string): string => join(dir, 'blobs', ...digest.split(':'));

/** Unpacks an OCI archive (one image) into a fresh directory under `parent`. */
export async function unpack(archive: string, parent: string): Promise<UnpackedImage> {
  const dir = mkdtempSync(join(parent, 'oci-'));
  await run('tar', ['-xf', archive, '-C', dir]);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  if (index.manifests.length !== 1) throw new Error(`${archive}: expected one manifest, found ${index.manifests.length}`);
  const entry = index.manifests[0]!;
  const manifest = JSON.parse(readFileSync(blob(dir, entry.digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const config = (JSON.parse(readFileSync(blob(dir, manifest.config.digest), 'utf8')) as { config: ImageConfig }).config;
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  for (const layer of manifest.layers) {
    const listing = (await run('tar', ['-tf', blob(dir, layer.digest)], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n');
    for (const path of listing) {
      const name = path.replace(/\/$/, '').split('/').at(-1) ?? '';
      if (name === '.wh..wh..opq') rmSync(join(rootfs, dirname(path)), { recursive: true, force: true });
      else if (name.startsWith('.wh.')) rmSync(join(rootfs, dirname(path), name.slice(4)), { recursive: true, force: true });
    }
    await run('tar', ['-xf', blob(dir, layer.digest), '-C', rootfs, '--exclude=.wh.*']);
  }
  return { id: manifest.config.digest.replace(/^sha256:/, ''), refName: entry.annotations?.['org.opencontainers.image.ref.name'], config, rootfs };
}

export interface FileEntry {
  /** Path inside the image, starting with "/". */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/** Every entry of a root filesystem (symlinks not followed). */
export function walk(rootfs: string): FileEntry[] {
  const out: FileEntry[] = [];
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(rootfs, rel))) {
      const path = `${rel}/${name}`;
      const st = lstatSync(join(rootfs, path));
      const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.push({ path, kind });
      if (kind === 'dir') visit(path);
    }
  };
  visit('');
  return out;
}

/** podman with the private configuration and storage images/build.sh uses. */
export async function podman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, CONTAINERS_CONF: join(IMAGES_CACHE, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(IMAGES_CACHE, 'storage.conf') };
  if (!existsSync(env.CONTAINERS_CONF)) throw new Error(`${env.CONTAINERS_CONF} is missing: run images/build.sh`);
  try {
    const { stdout, stderr } = await run('podman', args, { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Makes sure podman's storage has the archive's image (loads it if it was pruned) and returns its
 * ID: another checkout sharing the cache may have tagged a different build under the same name.
 */
export async function ensureLoaded(archive: string, unpacked: UnpackedImage): Promise<string> {
  if ((await podman(['image', 'exists', unpacked.id])).code !== 0) {
    const loaded = await podman(['load', '--quiet', '-i', archive]);
    if (loaded.code !== 0) throw new Error(`podman load ${archive}: ${loaded.stderr}`);
  }
  return unpacked.id;
}
