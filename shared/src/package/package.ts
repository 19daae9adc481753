// The default CA package (upstream pkg/fspkg): a JSON file {name, version, bundle} whose bundle is
// checked with the bundle PEM rules. Error texts are upstream's (upstream-behaviour.md section 5).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parsePemCertificates } from '../certs/scan.ts';

export interface DefaultPackage {
  name: string;
  version: string;
  bundle: string;
}

/** A package that cannot be loaded or fails validation; `message` is the upstream text. */
export class PackageError extends Error {
  override name = 'PackageError';
}

/** Go encoding/json field matching: keys match case-insensitively, the last one wins. */
function lookup(object: Record<string, unknown>, key: string): unknown {
  let value: unknown;
  for (const [candidate, candidateValue] of Object.entries(object)) {
    if (candidate.toLowerCase() === key) value = candidateValue;
  }
  return value;
}

function field(object: Record<string, unknown>, key: string): string {
  const value = lookup(object, key);
  // Go's encoding/json: absent or null leaves "", a non-string is a type error.
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw new PackageError(`failed to parse package JSON: json: cannot unmarshal ${goJsonType(value)} into Go struct field Package.${key} of type string`);
  }
  return value;
}

function goJsonType(value: unknown): string {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

function validate(pkg: DefaultPackage): void {
  try {
    // A bundle without any PEM block is accepted, as upstream accepts it.
    parsePemCertificates(pkg.bundle);
  } catch (err) {
    throw new PackageError(`package bundle failed validation: ${(err as Error).message}`);
  }
  if (pkg.name === '') throw new PackageError("package may not have an empty 'name'");
  if (pkg.version === '') throw new PackageError("package may not have an empty 'version'");
}

/** Parses and validates package JSON (unknown fields ignored). Throws PackageError without the path wrapper. */
export function parsePackageJson(json: string): DefaultPackage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new PackageError(`failed to parse package JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const type = parsed === null ? 'null' : goJsonType(parsed);
    // Go decodes null into a zero struct; the empty name is then reported by validation.
    if (parsed !== null) {
      throw new PackageError(`failed to parse package JSON: json: cannot unmarshal ${type} into Go value of type fspkg.Package`);
    }
    parsed = {};
  }
  const object = parsed as Record<string, unknown>;
  const pkg = { name: field(object, 'name'), version: field(object, 'version'), bundle: field(object, 'bundle') };
  validate(pkg);
  return pkg;
}

function wrap(path: string, err: unknown): PackageError {
  return new PackageError(`failed to load package ${JSON.stringify(path)}: ${(err as Error).message}`);
}

/**
 * Parses package JSON; with `path`, errors are wrapped as `failed to load package "<path>": ...`
 * exactly as loadPackage reports them.
 */
export function parsePackage(json: string, path?: string): DefaultPackage {
  try {
    return parsePackageJson(json);
  } catch (err) {
    throw path === undefined ? err : wrap(path, err);
  }
}

/**
 * Loads and validates the package file at `path` (must end in `.json`). As upstream, only parse and
 * validation errors are wrapped in `failed to load package "<path>": ...`.
 */
export async function loadPackage(path: string): Promise<DefaultPackage> {
  if (!path.endsWith('.json')) {
    throw new PackageError(`can't load package at path ${JSON.stringify(path)} since it doesn't have the required ".json" extension`);
  }
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (err) {
    throw new PackageError(`failed to open package on filesystem ${JSON.stringify(path)}: ${describeFsError(err, path)}`);
  }
  return parsePackage(json, path);
}

/** Go's *PathError text, e.g. `open /x.json: no such file or directory`. */
function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
  };
  const reason = (code !== undefined ? reasons[code] : undefined) ?? (err as Error).message;
  return `open ${path}: ${reason}`;
}

/** `<name>-<version>-<hex of the first 8 bytes of SHA-256(bundle)>`, reported as status.defaultCAVersion. */
export function packageStringID(pkg: DefaultPackage): string {
  const digest = createHash('sha256').update(pkg.bundle, 'utf8').digest('hex');
  return `${pkg.name}-${pkg.version}-${digest.slice(0, 16)}`;
}
