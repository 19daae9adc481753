// Admission validation of a Bundle: pure, no I/O. Order of checks and every quoted text follow
// upstream-compatibility.md 3.2 so denials read exactly like upstream's; our additions come last.
//   1. the OpenAPI schema (schema.ts compiled once with ajv), reported with API-server-like texts;
//   2. upstream's webhook rules 1-10;
//   3. ours: allowed source namespaces, inLine PEM checks (errors) and certificate warnings.

import { Ajv, type ErrorObject } from 'ajv';

import {
  aggregateMessage,
  childPath,
  forbidden,
  goQuote,
  indexPath,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
  type FieldError,
} from '@trust-manager/shared/api/field-error.ts';
import { DURATION_PATTERN, bundleSchema, type StructuralSchema } from '@trust-manager/shared/api/schema.ts';
import type { ClusterTrustBundleAvailability } from '@trust-manager/shared/api/cluster-trust-bundle.ts';
import { allowedSourceNamespaces, disallowedSourceNamespaces, type SourceNamespaceSettings } from '@trust-manager/shared/api/source-namespaces.ts';
import { parseGoDuration } from '@trust-manager/shared/cli/duration.ts';
import { errorMessage } from '@trust-manager/shared/text/error-message.ts';
import type { Bundle, BundleSource, SourceObjectKeySelector, TargetMetadata } from '@trust-manager/shared/api/types.ts';
import { validateLabelSelector } from '@trust-manager/shared/selectors/label-selector.ts';
import { validateAnnotations, validateLabels } from '@trust-manager/shared/selectors/label-validation.ts';

import { clusterTrustBundleErrors, clusterTrustBundleWarnings } from './cluster-trust-bundles.ts';
import { checkInLinePem } from './inline-pem.ts';

export interface ValidationOptions extends SourceNamespaceSettings {
  /** Clock for certificate validity warnings (tests pin it). */
  now?: Date;
  /** Whether ClusterTrustBundles can be used (flag and API discovery); undefined = not known, no warning. */
  clusterTrustBundles?: ClusterTrustBundleAvailability;
}

export interface ValidationResult {
  errors: FieldError[];
  warnings: string[];
}

// Status belongs to the controller (and bundles/status is not routed to the webhook), so admission
// checks everything but status.
const { status: _status, ...admittedProperties } = bundleSchema.properties ?? {};
const admissionSchema: StructuralSchema = { ...bundleSchema, properties: admittedProperties };

const ajv = new Ajv({
  strict: false, // the schema carries Kubernetes keywords (x-kubernetes-*) ajv doesn't know
  allErrors: true,
  verbose: true, // keeps the offending value on each error for the message
  formats: { 'date-time': true, int32: true, int64: true },
});
const validateSchema = ajv.compile(admissionSchema);

/** Validate the new object of a CREATE/UPDATE. Returns every error and warning, never throws on input. */
export function validateBundle(input: unknown, options: ValidationOptions): ValidationResult {
  if (!isPlainObject(input)) {
    return { errors: [typeInvalid('<root>', jsonTypeName(input), 'a Bundle must be a JSON object')], warnings: [] };
  }
  // The API server drops nulls of non-nullable fields before admission; mirror that so a Bundle
  // encoded by Go (`"sources": null`) is judged like upstream judges it.
  const object = withoutNulls(input, admissionSchema) as Record<string, unknown>;

  const schemaErrors = schemaFieldErrors(object);
  // Wrong JSON types make the rules below meaningless (and unsafe to evaluate); an over-long list
  // would only multiply work and messages: stop here.
  if (schemaErrors.some((error) => error.type === 'FieldValueTypeInvalid' || error.type === 'FieldValueTooMany')) {
    return { errors: schemaErrors, warnings: [] };
  }

  const bundle = object as unknown as Bundle;
  const warnings: string[] = [];
  const upstreamErrors = [...schemaErrors, ...upstreamRuleErrors(bundle)];
  const nonCAInLine = new Map<number, number>();
  const inLineProblems = inLineErrors(bundle, options.now ?? new Date(), warnings, nonCAInLine);
  // Where upstream denies, the denial is upstream's text exactly; the inLine content checks (our
  // extension) speak once the Bundle passes upstream's rules.
  const errors = [
    ...upstreamErrors,
    ...sourceNamespaceErrors(bundle, options),
    ...clusterTrustBundleErrors(bundle),
    ...(bundle.spec?.target?.clusterTrustBundle?.metadata
      ? targetMetadataErrors(bundle.spec.target.clusterTrustBundle.metadata, 'spec.target.clusterTrustBundle.metadata')
      : []),
    ...keepHistoryErrors(bundle),
    ...(upstreamErrors.length === 0 ? inLineProblems : []),
  ];
  warnings.push(...clusterTrustBundleWarnings(bundle, options.clusterTrustBundles, nonCAInLine));
  return { errors, warnings };
}

/** The denial text upstream sends (`status.message`). */
export function denialMessage(result: ValidationResult): string {
  return aggregateMessage(result.errors);
}

// ---------------------------------------------------------------------------------------------
// 1. Schema

function schemaFieldErrors(object: Record<string, unknown>): FieldError[] {
  if (validateSchema(object)) return [];
  return (validateSchema.errors ?? []).filter((error) => !coveredByUpstreamRule(error, object)).map(toFieldError);
}

/**
 * Schema failures that an upstream webhook rule reports with its own text. Dropping them keeps the
 * denial identical to upstream's for those cases (e.g. `sources: []` => `must define at least one
 * source`, not a minItems text).
 */
function coveredByUpstreamRule(error: ErrorObject, root: Record<string, unknown>): boolean {
  const path = error.instancePath;
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return (path === '' && missing === 'spec') || (path === '/spec' && missing === 'sources'); // rule 4
    }
    case 'minItems':
      return path === '/spec/sources'; // rule 4
    case 'minLength': {
      if (/^\/spec\/sources\/\d+\/inLine$/.test(path)) return true; // rule 3: "" is not a source type
      const match = /^(\/spec\/sources\/\d+\/(?:configMap|secret))\/(name|key)$/.exec(path);
      if (!match?.[1]) return false;
      const reference = valueAtPointer(root, match[1]) as SourceObjectKeySelector;
      // rule 1: name "" without selector / key "" without includeAllKeys have upstream texts
      return match[2] === 'name' ? reference.selector === undefined : reference.includeAllKeys !== true;
    }
    default:
      return false;
  }
}

/** ajv error => the text kube-apiserver gives for the same OpenAPI failure. */
function toFieldError(error: ErrorObject): FieldError {
  const path = pointerToFieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const data: unknown = error.data;
  const limit = Number(params.limit);
  switch (error.keyword) {
    case 'required':
      return required(childPath(path, String(params.missingProperty)));
    case 'type': {
      const actual = jsonTypeName(data);
      return typeInvalid(path, actual, `${path} in body must be of type ${String(params.type)}: ${goQuote(actual)}`);
    }
    case 'enum':
      return notSupported(path, data, (params.allowedValues as unknown[]).map(String));
    case 'maxLength':
      return tooLong(path, limit);
    case 'maxItems':
      return tooMany(path, Array.isArray(data) ? data.length : -1, limit);
    case 'minLength':
      return invalid(path, data, `${path} in body should be at least ${limit} chars long`);
    case 'minItems':
      return invalid(path, Array.isArray(data) ? data.length : 0, `${path} in body should have at least ${limit} items`);
    case 'minProperties':
      return invalid(path, isPlainObject(data) ? Object.keys(data).length : 0, `${path} in body should have at least ${limit} properties`);
    case 'pattern':
      return invalid(path, data, `${path} in body should match '${String(params.pattern)}'`);
    case 'minimum':
      return invalid(path, data, `${path} in body should be greater than or equal to ${limit}`);
    case 'maximum':
      return invalid(path, data, `${path} in body should be less than or equal to ${limit}`);
    default:
      return invalid(path, data, `${path} ${error.message ?? 'is invalid'}`);
  }
}

/** `/spec/sources/0/configMap` => `spec.sources[0].configMap`. */
function pointerToFieldPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(segment) ? indexPath(path, Number(segment)) : childPath(path, segment);
  }
  return path === '' ? '<root>' : path;
}

function valueAtPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of pointer.split('/').slice(1)) {
    node = (node as Record<string, unknown> | unknown[] | undefined)?.[segment as never];
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// 2. Upstream rules (3.2), in upstream order

const RESERVED_PREFIXES = ['trust.cert-manager.io/', 'trust-manager.io/'] as const;

function upstreamRuleErrors(bundle: Bundle): FieldError[] {
  const errors: FieldError[] = [];
  const sources = bundle.spec?.sources ?? [];
  const sourcesPath = 'spec.sources';

  sources.forEach((source, index) => {
    const path = indexPath(sourcesPath, index);
    if (source.configMap) errors.push(...objectReferenceErrors(source.configMap, childPath(path, 'configMap'), 'configMap'));
    if (source.secret) errors.push(...objectReferenceErrors(source.secret, childPath(path, 'secret'), 'secret'));
    const types = definedSourceTypes(source);
    if (types !== 1) errors.push(forbidden(path, `must define exactly one source type for each item but found ${types} defined types`));
  });

  if (!sources.some(isRealSource)) errors.push(forbidden(sourcesPath, 'must define at least one source'));

  const defaultCARequests = sources.filter((source) => source.useDefaultCAs !== undefined).length;
  if (defaultCARequests > 1) {
    errors.push(forbidden(sourcesPath, `must request default CAs either once or not at all but got ${defaultCARequests} requests`));
  }

  const target = bundle.spec?.target;
  const bundleName = bundle.metadata?.name ?? '';
  for (const kind of ['configMap', 'secret'] as const) {
    const targetKey = target?.[kind]?.key;
    if (targetKey === undefined) continue;
    sources.forEach((source, index) => {
      const reference = source[kind];
      if (reference && (reference.name ?? '') === bundleName && (reference.key ?? '') === targetKey) {
        errors.push(forbidden(childPath(indexPath(sourcesPath, index), kind, reference.name ?? '', reference.key ?? ''), 'cannot define the same source as target'));
      }
    });
  }

  const formats = target?.additionalFormats;
  if (formats) {
    const keys = new Set([target.configMap?.key, target.secret?.key].filter((key) => key !== undefined));
    for (const format of ['jks', 'pkcs12'] as const) {
      const key = formats[format]?.key;
      if (key === undefined) continue;
      if (keys.has(key)) errors.push(invalid(`spec.target.additionalFormats.${format}.key`, key, 'key must be unique across all target output keys'));
      keys.add(key);
    }
  }

  for (const kind of ['configMap', 'secret'] as const) {
    const metadata = target?.[kind]?.metadata;
    if (metadata) errors.push(...targetMetadataErrors(metadata, `spec.target.${kind}.metadata`));
  }

  errors.push(...validateLabelSelector(target?.namespaceSelector, 'spec.target.namespaceSelector'));
  return errors;
}

function objectReferenceErrors(reference: SourceObjectKeySelector, path: string, kind: 'configMap' | 'secret'): FieldError[] {
  const errors: FieldError[] = [];
  const name = reference.name ?? '';
  const key = reference.key ?? '';
  const includeAllKeys = reference.includeAllKeys === true;
  if (name === '' && reference.selector === undefined) {
    errors.push(invalid(path, "name: ' ', selector: nil", 'must validate one and only one schema (oneOf): [name, selector]. Found none valid'));
  }
  if (name !== '' && reference.selector !== undefined) {
    errors.push(invalid(path, `name: ${name}, selector: {}`, 'must validate one and only one schema (oneOf): [name, selector]. Found both set'));
  }
  if (key === '' && !includeAllKeys) {
    errors.push(invalid(path, "key: ' ', includeAllKeys: false", `source ${kind} key must be defined when includeAllKeys is false`));
  }
  if (key !== '' && includeAllKeys) {
    errors.push(invalid(path, `key: ${key}, includeAllKeys: true`, `source ${kind} key cannot be defined when includeAllKeys is true`));
  }
  errors.push(...validateLabelSelector(reference.selector, childPath(path, 'selector')));
  return errors;
}

function definedSourceTypes(source: BundleSource): number {
  return [source.configMap !== undefined, source.secret !== undefined, hasInLine(source), source.useDefaultCAs !== undefined, source.clusterTrustBundle !== undefined].filter(
    Boolean,
  ).length;
}

function hasInLine(source: BundleSource): source is BundleSource & { inLine: string } {
  return source.inLine !== undefined && source.inLine !== '';
}

/** `useDefaultCAs: false` counts as a source type but is not a source (upstream quirk). */
function isRealSource(source: BundleSource): boolean {
  return source.configMap !== undefined || source.secret !== undefined || hasInLine(source) || source.useDefaultCAs === true || source.clusterTrustBundle !== undefined;
}

function targetMetadataErrors(metadata: TargetMetadata, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const annotationsPath = childPath(path, 'annotations');
  for (const key of Object.keys(metadata.annotations ?? {}).sort()) {
    for (const prefix of RESERVED_PREFIXES) {
      if (key.startsWith(prefix)) errors.push(invalid(annotationsPath, key, `${prefix}* annotations are not allowed`));
    }
  }
  errors.push(...validateAnnotations(metadata.annotations, annotationsPath));
  const labelsPath = childPath(path, 'labels');
  for (const key of Object.keys(metadata.labels ?? {}).sort()) {
    for (const prefix of RESERVED_PREFIXES) {
      if (key.startsWith(prefix)) errors.push(invalid(labelsPath, key, `${prefix}* labels are not allowed`));
    }
  }
  errors.push(...validateLabels(metadata.labels, labelsPath));
  return errors;
}

// ---------------------------------------------------------------------------------------------
// 3. Ours

function sourceNamespaceErrors(bundle: Bundle, options: ValidationOptions): FieldError[] {
  const allowed = allowedSourceNamespaces(options).map(goQuote).join(', ');
  return disallowedSourceNamespaces(bundle.spec?.sources ?? [], options).map(({ index, kind, namespace }) =>
    forbidden(
      childPath(indexPath('spec.sources', index), kind, 'namespace'),
      `namespace ${goQuote(namespace)} is not an allowed source namespace; allowed: ${allowed} ` +
        '(omit namespace to use the trust namespace, or ask the operator to add it to --source-namespaces / app.trust.additionalSourceNamespaces)',
    ),
  );
}

/**
 * keepHistory (docs/ca-rotation.md): the schema bounds limit and the shape of maxAge; a zero maxAge
 * would drop every previous certificate at once, which is not keeping history. No other option
 * conflicts: the field exists only on configMap/secret sources, whose content changes in place.
 */
function keepHistoryErrors(bundle: Bundle): FieldError[] {
  const errors: FieldError[] = [];
  (bundle.spec?.sources ?? []).forEach((source, index) => {
    for (const kind of ['configMap', 'secret'] as const) {
      const maxAge = source[kind]?.keepHistory?.maxAge;
      if (typeof maxAge !== 'string' || !DURATION_REGEXP.test(maxAge)) continue; // the schema reports it
      const path = childPath(indexPath('spec.sources', index), kind, 'keepHistory', 'maxAge');
      let ms: number;
      try {
        ms = parseGoDuration(maxAge);
      } catch (err) {
        errors.push(invalid(path, maxAge, errorMessage(err)));
        continue;
      }
      if (ms <= 0) errors.push(invalid(path, maxAge, 'must be a positive duration, such as 720h'));
    }
  });
  return errors;
}

const DURATION_REGEXP = new RegExp(DURATION_PATTERN, 'u');

function inLineErrors(bundle: Bundle, now: Date, warnings: string[], nonCAInLine: Map<number, number>): FieldError[] {
  const errors: FieldError[] = [];
  (bundle.spec?.sources ?? []).forEach((source, index) => {
    if (!hasInLine(source)) return;
    const path = childPath(indexPath('spec.sources', index), 'inLine');
    const result = checkInLinePem(source.inLine, now);
    if (result.nonCACertificates > 0) nonCAInLine.set(index, result.nonCACertificates);
    errors.push(...result.problems.map((problem) => invalidOmittingValue(path, problem)));
    warnings.push(...result.warnings.map((warning) => `${path}: ${warning}`));
  });
  return errors;
}

/** Invalid without echoing the value: inLine may be a megabyte and may hold a private key. */
function invalidOmittingValue(path: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, detail };
}

// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Drops null members, descending only where the schema describes structure (bounded depth). */
function withoutNulls(value: unknown, schema: StructuralSchema | undefined): unknown {
  if (schema === undefined) return value;
  if (Array.isArray(value)) {
    const items = schema.items;
    return items ? value.map((item) => withoutNulls(item, items)) : value;
  }
  if (!isPlainObject(value)) return value;
  // fromEntries defines properties, so a `__proto__` member stays data and never becomes a prototype.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== null)
      .map(([key, member]) => [key, withoutNulls(member, schema.properties?.[key] ?? schema.additionalProperties)]),
  );
}
