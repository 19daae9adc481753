// The chart's values.yaml is the one source of its documentation: its comments become the README's
// values reference and values.schema.json (scripts/gen-chart-readme.ts writes both; the chart tests
// fail when either drifts). Comment conventions (helm-tool style):
//   # <text>                       description of the key that follows
//   # +docs:section=<Title>        starts a README section
//   # +docs:property               before a key: document it as one value (do not recurse into it);
//                                  followed by commented YAML (`# name: example`): a documented value
//                                  that is unset by default (still allowed by the schema)
//   # +docs:type=<t>[,<t>...]      bool|integer|number|string|array|object|null or unknown (no type check)
//   # +docs:schema=<JSON object>   further JSON Schema keywords for values.schema.json (enum, minimum,
//                                  maximum, pattern, items): values that cannot work fail `helm install`
// Every key must be documented, except the children of a documented object value.
import YAML from 'yaml';

export type ValueType = 'bool' | 'integer' | 'number' | 'string' | 'array' | 'object' | 'null';

export interface ValueDoc {
  /** Dotted path, e.g. "app.webhook.port". */
  path: string[];
  section: string;
  description: string[];
  /** null = unknown (no type constraint). */
  types: ValueType[] | null;
  /** Further JSON Schema keywords (+docs:schema). */
  schema?: Record<string, unknown>;
  /** False for values that are documented but unset by default (commented YAML). */
  hasDefault: boolean;
  default: unknown;
}

export interface ValuesModel {
  /** Documented values (leaves), in file order. */
  values: ValueDoc[];
  /** Paths of the objects the leaves live in (each becomes `additionalProperties: false`). */
  parents: string[][];
}

interface Paragraph {
  indent: number;
  lines: string[];
}

interface Entry {
  path: string[];
  indent: number;
  line: number;
  section: string;
  description: string[];
  types: ValueType[] | null | undefined;
  schema: Record<string, unknown> | undefined;
  forceLeaf: boolean;
  commented: boolean;
  example: unknown;
}

const TYPE_NAMES: readonly string[] = ['bool', 'integer', 'number', 'string', 'array', 'object', 'null'];

function typeOf(value: unknown): ValueType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

function parseTypes(spec: string, where: string): ValueType[] | null {
  if (spec === 'unknown') return null;
  const types = spec.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!TYPE_NAMES.includes(t)) throw new Error(`${where}: unknown +docs:type "${t}"`);
  }
  return types as ValueType[];
}

/** Keywords +docs:schema may add; anything else (type, default, description) has its own source. */
const SCHEMA_KEYWORDS = new Set(['enum', 'minimum', 'maximum', 'pattern', 'items', 'minItems', 'minLength']);

function parseSchema(spec: string, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(spec);
  } catch (err) {
    throw new Error(`${where}: +docs:schema is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${where}: +docs:schema must be a JSON object`);
  for (const k of Object.keys(parsed)) {
    if (!SCHEMA_KEYWORDS.has(k)) throw new Error(`${where}: +docs:schema keyword "${k}" is not one of ${[...SCHEMA_KEYWORDS].join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}

const KEY_LINE = /^( *)("[^"]+"|'[^']+'|[^\s#:'"-][^:#]*?|-[^\s:#][^:#]*?):(?: +(.*))?$/;
const COMMENT_LINE = /^( *)#(.*)$/;

function unquote(key: string): string {
  return /^["'].*["']$/.test(key) ? key.slice(1, -1) : key;
}

/** Reads values.yaml text into the documented values and their parent objects. */
export function parseValues(text: string): ValuesModel {
  const defaults: unknown = YAML.parse(text);
  const lines = text.split('\n');
  const entries: Entry[] = [];
  const stack: { indent: number; key: string }[] = [];
  let pending: Paragraph[] = [];
  let current: Paragraph | null = null;
  let section = '';

  const flush = (): void => {
    if (current && current.lines.length > 0) pending.push(current);
    current = null;
  };
  const parentAt = (indent: number): string[] => {
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    return stack.map((s) => s.key);
  };

  // Consumes the pending paragraphs; returns the description and directives of the key that follows.
  const consume = (lineNo: number) => {
    let description: string[] = [];
    let types: ValueType[] | null | undefined;
    let schema: Record<string, unknown> | undefined;
    let forceLeaf = false;
    for (const p of pending) {
      const where = `values.yaml:${lineNo}`;
      const markerAt = p.lines.findIndex((l) => l.trim() === '+docs:property');
      const sectionLine = p.lines.find((l) => l.trim().startsWith('+docs:section='));
      if (sectionLine !== undefined) section = sectionLine.trim().slice('+docs:section='.length);
      const body = p.lines.filter((l) => !l.trim().startsWith('+docs:section='));
      const after = markerAt >= 0 ? p.lines.slice(markerAt + 1).filter((l) => !l.trim().startsWith('+docs:')) : [];
      const before = (markerAt >= 0 ? p.lines.slice(0, markerAt) : body).filter((l) => !l.trim().startsWith('+docs:section='));
      let pTypes: ValueType[] | null | undefined;
      let pSchema: Record<string, unknown> | undefined;
      const descr: string[] = [];
      for (const l of before) {
        const t = l.trim();
        if (t.startsWith('+docs:type=')) pTypes = parseTypes(t.slice('+docs:type='.length), where);
        else if (t.startsWith('+docs:schema=')) pSchema = parseSchema(t.slice('+docs:schema='.length), where);
        else if (t.startsWith('+docs:')) throw new Error(`${where}: unknown directive "${t}"`);
        else descr.push(l);
      }
      if (markerAt >= 0 && after.length > 0) {
        // A documented value that is unset by default: "# name: example".
        const example = YAML.parse(after.map((l) => l.replace(/^ /, '')).join('\n')) as unknown;
        if (example === null || typeof example !== 'object' || Array.isArray(example) || Object.keys(example).length !== 1) {
          throw new Error(`${where}: +docs:property must be followed by exactly one commented "name: value"`);
        }
        const [name, value] = Object.entries(example as Record<string, unknown>)[0]!;
        entries.push({
          path: [...parentAt(p.indent), name],
          indent: p.indent,
          line: lineNo,
          section,
          description: trimLines(descr),
          types: pTypes === undefined ? [typeOf(value)] : pTypes,
          schema: pSchema,
          forceLeaf: true,
          commented: true,
          example: value,
        });
        continue;
      }
      if (markerAt >= 0) forceLeaf = true;
      if (pTypes !== undefined) types = pTypes;
      if (pSchema !== undefined) schema = pSchema;
      if (descr.some((l) => l.trim() !== '')) description = description.length > 0 ? [...description, '', ...descr] : descr;
    }
    pending = [];
    return { description: trimLines(description), types, schema, forceLeaf };
  };

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '') {
      flush();
      return;
    }
    const c = COMMENT_LINE.exec(raw);
    if (c) {
      const indent = c[1]!.length;
      if (current && current.indent !== indent) flush();
      current ??= { indent, lines: [] };
      current.lines.push(c[2]!.replace(/^ /, ''));
      return;
    }
    flush();
    const k = KEY_LINE.exec(raw);
    if (!k) {
      pending = []; // a list item or continuation inside a value: its comments document nothing
      return;
    }
    const indent = k[1]!.length;
    const key = unquote(k[2]!.trim());
    const { description, types, schema, forceLeaf } = consume(lineNo);
    const path = [...parentAt(indent), key];
    stack.push({ indent, key });
    entries.push({ path, indent, line: lineNo, section, description, types, schema, forceLeaf, commented: false, example: undefined });
  });
  flush();
  consume(lines.length);

  return buildModel(entries, defaults);
}

function trimLines(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out;
}

const key = (path: string[]): string => path.join('.');

function getIn(value: unknown, path: string[]): { found: boolean; value: unknown } {
  let v: unknown = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, p)) return { found: false, value: undefined };
    v = (v as Record<string, unknown>)[p];
  }
  return { found: true, value: v };
}

function buildModel(entries: Entry[], defaults: unknown): ValuesModel {
  const byPath = new Map(entries.map((e) => [key(e.path), e]));
  const childrenOf = (e: Entry): Entry[] =>
    entries.filter((c) => c.path.length === e.path.length + 1 && key(c.path.slice(0, -1)) === key(e.path));
  // A key is a parent when it is not forced to be one value and its default is an object whose
  // children are documented (or it has documented-but-unset children).
  const isParent = (e: Entry): boolean => {
    if (e.forceLeaf || e.commented) return false;
    const d = getIn(defaults, e.path).value;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) return false;
    const children = childrenOf(e);
    return children.length > 0 && children.every((c) => c.commented || c.description.length > 0 || isParent(c));
  };
  const values: ValueDoc[] = [];
  const parents: string[][] = [];
  const leafPaths: string[][] = [];
  for (const e of entries) {
    // Ignore the keys inside a documented value (e.g. the fields of a securityContext default).
    const insideLeaf = e.path.slice(0, -1).some((_, i) => {
      const ancestor = byPath.get(key(e.path.slice(0, i + 1)));
      return ancestor !== undefined && !isParent(ancestor);
    });
    if (insideLeaf) continue;
    if (isParent(e)) {
      parents.push(e.path);
      continue;
    }
    if (e.description.length === 0) throw new Error(`values.yaml:${e.line}: "${key(e.path)}" has no description comment`);
    if (leafPaths.some((p) => key(p) === key(e.path))) throw new Error(`values.yaml:${e.line}: "${key(e.path)}" documented twice`);
    leafPaths.push(e.path);
    const d = getIn(defaults, e.path);
    if (e.commented && d.found) throw new Error(`values.yaml:${e.line}: "${key(e.path)}" is both set and documented as unset`);
    values.push({
      path: e.path,
      section: e.section,
      description: e.description,
      types: e.types === undefined ? [typeOf(d.value)] : e.types,
      ...(e.schema !== undefined ? { schema: e.schema } : {}),
      hasDefault: d.found,
      default: d.value,
    });
  }
  return { values, parents };
}

// ---------------------------------------------------------------------------------------------
// values.schema.json

/** Objects that umbrella charts share: they accept unknown keys (as upstream). */
const OPEN_OBJECTS = new Set(['global', 'global.rbac']);

const JSON_TYPES: Record<ValueType, string> = {
  bool: 'boolean',
  integer: 'integer',
  number: 'number',
  string: 'string',
  array: 'array',
  object: 'object',
  null: 'null',
};

type Schema = Record<string, unknown>;

export function renderSchema(model: ValuesModel): string {
  const root: Schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: {} };
  const objectAt = (path: string[]): Schema => {
    let node = root;
    path.forEach((p, i) => {
      const props = node.properties as Record<string, Schema>;
      const here = key(path.slice(0, i + 1));
      props[p] ??= OPEN_OBJECTS.has(here) ? { type: 'object', properties: {} } : { type: 'object', additionalProperties: false, properties: {} };
      node = props[p];
    });
    return node;
  };
  for (const v of model.values) {
    const parent = objectAt(v.path.slice(0, -1));
    const leaf: Schema = { description: v.description.join('\n') };
    if (v.types !== null) {
      const t = v.types.map((x) => JSON_TYPES[x]);
      leaf.type = t.length === 1 ? t[0] : t;
    }
    Object.assign(leaf, v.schema);
    if (v.hasDefault) leaf.default = v.default;
    (parent.properties as Record<string, Schema>)[v.path[v.path.length - 1]!] = leaf;
  }
  for (const p of model.parents) objectAt(p);
  return JSON.stringify(root, null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------
// README

export const BEGIN_MARKER = '<!-- AUTO-GENERATED -->';
export const END_MARKER = '<!-- /AUTO-GENERATED -->';

function markdownDescription(lines: string[]): string {
  const out: string[] = [];
  let code: string[] = [];
  const endCode = (): void => {
    if (code.length === 0) return;
    const indent = Math.min(...code.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
    out.push('', '```yaml', ...code.map((l) => l.slice(indent)), '```', '');
    code = [];
  };
  for (const l of lines) {
    if (l.startsWith(' ') && l.trim() !== '') {
      code.push(l);
      continue;
    }
    endCode();
    out.push(l.trim() === '' ? '' : l);
  }
  endCode();
  // Markdown line breaks between consecutive text lines.
  const text: string[] = [];
  out.forEach((l, i) => {
    const next = out[i + 1];
    const inCode = text.filter((t) => t.startsWith('```')).length % 2 === 1;
    const breakLine = !inCode && l !== '' && !l.startsWith('```') && next !== undefined && next !== '' && !next.startsWith('```');
    text.push(breakLine ? `${l}  ` : l);
  });
  return text.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The +docs:schema constraints in words, for the README. */
function constraintText(schema: Record<string, unknown> | undefined): string | undefined {
  if (schema === undefined) return undefined;
  const literal = (v: unknown): string => `\`${JSON.stringify(v)}\``;
  const parts: string[] = [];
  if (Array.isArray(schema.enum)) parts.push(`be one of ${schema.enum.map(literal).join(', ')}`);
  const items = schema.items as Record<string, unknown> | undefined;
  if (items !== undefined && Array.isArray(items.enum)) parts.push(`be a list of ${items.enum.map(literal).join(', ')}`);
  const { minimum, maximum } = schema;
  if (typeof minimum === 'number' && typeof maximum === 'number') parts.push(`be from ${minimum} to ${maximum}`);
  else if (typeof minimum === 'number') parts.push(`be at least ${minimum}`);
  else if (typeof maximum === 'number') parts.push(`be at most ${maximum}`);
  if (typeof schema.pattern === 'string') parts.push(`match \`${schema.pattern}\``);
  if (typeof schema.minLength === 'number' && schema.minLength > 0) parts.push('not be empty');
  return parts.length > 0 ? `Must ${parts.join(' and ')}.` : undefined;
}

export function renderValuesReference(model: ValuesModel): string {
  const out: string[] = [];
  let section: string | undefined;
  for (const v of model.values) {
    if (v.section !== section) {
      section = v.section;
      if (section !== '') out.push(`### ${section}`, '');
    }
    const type = v.types === null ? 'unknown' : v.types.join(',');
    out.push(`#### **${key(v.path)}** ~ \`${type}\``);
    if (v.hasDefault) {
      const yaml = (v.default === '' ? '""' : YAML.stringify(v.default, { lineWidth: 0 })).trimEnd();
      out.push('> Default value:', '> ```yaml', ...yaml.split('\n').map((l) => `> ${l}`), '> ```');
    }
    out.push('', markdownDescription(v.description), '');
    const constraint = constraintText(v.schema);
    if (constraint !== undefined) out.push(constraint, '');
  }
  return out.join('\n').trimEnd() + '\n';
}

const DEFAULT_README = `# trust-manager

trust-manager distributes trust bundles (sets of trusted CA certificates) to ConfigMaps and Secrets
across a Kubernetes cluster, from the cluster-scoped \`Bundle\` resource (\`trust.cert-manager.io/v1alpha1\`).

## Helm Values

${BEGIN_MARKER}
${END_MARKER}
`;

/** Replaces the text between the markers of the README (or of a new README) with the reference. */
export function renderReadme(existing: string | undefined, model: ValuesModel): string {
  const readme = existing ?? DEFAULT_README;
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`README.md must contain ${BEGIN_MARKER} followed by ${END_MARKER}`);
  return `${readme.slice(0, begin)}${BEGIN_MARKER}\n\n${renderValuesReference(model)}\n${readme.slice(end)}`;
}
