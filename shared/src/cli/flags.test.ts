import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flag, FlagError, parseArgv, renderHelp, type FlagTable, type FlagValues } from './flags.ts';

const TABLE = {
  enabled: flag.bool('enabled', false, 'A bool.'),
  elect: flag.bool('elect', true, 'A bool that defaults to true.'),
  count: flag.int('count', 3, 'An int.', { short: 'c' }),
  level: flag.int('level', 1, 'An int with a check.', { short: 'v', check: (value) => (value >= 0 ? undefined : 'must be a non-negative integer') }),
  port: flag.port('port', 8080, 'A port.'),
  name: flag.string('name', 'default-name', 'A string.'),
  empty: flag.string('empty', '', 'A string without a default.'),
  path: flag.string('path', '/x', 'A string with a check.', { check: (value) => (value.startsWith('/') ? undefined : 'must start with "/"') }),
  timeout: flag.duration('timeout', 15_000, 'A duration.'),
  items: flag.list('items', [], 'A list.', { check: (items) => (items.includes('bad') ? 'no "bad" items' : undefined) }),
  kept: flag.list('kept', ['a', 'b'], 'A list with a default.'),
  mode: flag.enum('mode', ['text', 'json'], 'text', 'An enum.'),
  colour: flag.enum('colour', ['red', 'green', 'blue'], 'red', 'An enum of three.'),
};

function parse(argv: string[]): FlagValues<typeof TABLE> {
  const result = parseArgv(TABLE, argv);
  if (result.kind !== 'flags') assert.fail('expected flags');
  return result.flags;
}

function fails(argv: string[], message: string | RegExp): void {
  assert.throws(() => parseArgv(TABLE, argv), (err: unknown) => {
    assert.ok(err instanceof FlagError, String(err));
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('no arguments: every default, lists copied', () => {
  const parsed = parse([]);
  assert.deepEqual(parsed, {
    enabled: false,
    elect: true,
    count: 3,
    level: 1,
    port: 8080,
    name: 'default-name',
    empty: '',
    path: '/x',
    timeout: 15_000,
    items: [],
    kept: ['a', 'b'],
    mode: 'text',
    colour: 'red',
  });
  parsed.kept.push('mutated');
  assert.deepEqual(parse([]).kept, ['a', 'b'], 'the default is not shared with a result');
});

test('every type converts its value', () => {
  const parsed = parse([
    '--enabled=true',
    '--elect=false',
    '--count=-7',
    '--level=+4',
    '--port=0',
    '--name=n',
    '--empty=',
    '--path=/p',
    '--timeout=1m30s',
    '--items=a, b,,c',
    '--kept=z',
    '--mode=json',
    '--colour=blue',
  ]);
  assert.deepEqual(parsed, {
    enabled: true,
    elect: false,
    count: -7,
    level: 4,
    port: 0,
    name: 'n',
    empty: '',
    path: '/p',
    timeout: 90_000,
    items: ['a', 'b', 'c'],
    kept: ['z'],
    mode: 'json',
    colour: 'blue',
  });
});

test('Go booleans', () => {
  for (const value of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parse([`--elect=false`, `--elect=${value}`]).elect, true, value);
  for (const value of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parse([`--elect=${value}`]).elect, false, value);
});

test('pflag forms', () => {
  assert.equal(parse(['--name', 'spaced']).name, 'spaced', '--flag value');
  assert.equal(parse(['--name=a=b']).name, 'a=b', 'only the first = splits');
  assert.equal(parse(['--enabled']).enabled, true, 'a bare boolean is true');
  assert.throws(() => parse(['--enabled', 'false']), /unexpected argument "false"/, 'a boolean never takes the next argument');
  assert.equal(parse(['--count', '-5']).count, -5, 'the next argument is the value even when it starts with -');
  assert.equal(parse(['-v', '2']).level, 2, '-v 2');
  assert.equal(parse(['-v=3']).level, 3, '-v=3');
  assert.equal(parse(['-v4']).level, 4, '-v4');
  assert.equal(parse(['-c', '9', '-v', '5']).count, 9);
  assert.equal(parse(['--level=2', '--level=5']).level, 5, 'the last occurrence wins');
  assert.deepEqual(parse(['--items=a,b', '--items', 'c', '--items=']).items, ['a', 'b', 'c'], 'list occurrences append');
  assert.deepEqual(parse(['--name=x', '--']).name, 'x', '-- ends the flags');
});

test('--help and -h win over everything else', () => {
  assert.deepEqual(parseArgv(TABLE, ['--name=x', '--help']), { kind: 'help' });
  assert.deepEqual(parseArgv(TABLE, ['--nope', '-h']), { kind: 'help' });
  assert.throws(() => parseArgv(TABLE, ['--', '--help']), /unexpected argument "--help"/, 'not after --');
});

test('errors read like pflag', () => {
  fails(['--nope'], 'unknown flag: --nope');
  fails(['--nope=1'], 'unknown flag: --nope');
  fails(['-x'], "unknown shorthand flag: 'x' in -x");
  fails(['--count'], 'flag needs an argument: --count');
  fails(['-v'], "flag needs an argument: 'v' in -v");
  fails(['stray'], 'unexpected argument "stray": flags take the form --name=value');
  fails(['--elect=yes'], 'invalid argument "yes" for "--elect" flag: strconv.ParseBool: parsing "yes": invalid syntax');
  fails(['--count=x'], 'invalid argument "x" for "-c, --count" flag: strconv.ParseInt: parsing "x": invalid syntax');
  fails(['--count=1.5'], /strconv\.ParseInt: parsing "1\.5": invalid syntax/);
  fails(['--count=99999999999999999999'], /value out of range/);
  fails(['--port=65536'], 'invalid argument "65536" for "--port" flag: must be a port number (0-65535)');
  fails(['--port=-1'], /must be a port number/);
  fails(['--port=http'], 'invalid argument "http" for "--port" flag: strconv.ParseInt: parsing "http": invalid syntax');
  fails(['--timeout=15'], 'invalid argument "15" for "--timeout" flag: time: missing unit in duration "15"');
  fails(['--timeout=soon'], 'invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"');
  fails(['--mode=xml'], 'invalid argument "xml" for "--mode" flag: must be one of "text" or "json"');
  fails(['--colour=pink'], 'invalid argument "pink" for "--colour" flag: must be one of "red", "green" or "blue"');
});

test('a per-flag check runs on every occurrence', () => {
  fails(['-v=-1'], 'invalid argument "-1" for "-v, --level" flag: must be a non-negative integer');
  fails(['--path=p'], 'invalid argument "p" for "--path" flag: must start with "/"');
  fails(['--path=p', '--path=/ok'], /must start with/);
  fails(['--items=ok', '--items=x,bad'], 'invalid argument "x,bad" for "--items" flag: no "bad" items');
});

test('a table that declares a name or shorthand twice is a programming error', () => {
  const twice: FlagTable = { a: flag.string('same', '', ''), b: flag.bool('same', false, '') };
  assert.throws(() => parseArgv(twice, []), /--same is declared twice/);
  const shorts: FlagTable = { a: flag.int('a', 0, '', { short: 'v' }), b: flag.int('b', 0, '', { short: 'v' }) };
  assert.throws(() => parseArgv(shorts, []), /shorthand -v/);
  assert.throws(() => parseArgv({ help: flag.bool('help', false, '') }, []), /--help is declared twice/);
});

test('help lists every flag with its type and default, in table order', () => {
  const text = renderHelp(TABLE, { program: 'prog', description: 'Does things.' });
  assert.match(text, /^Does things\.\n\nUsage:\n {2}prog \[flags\]\n\nFlags:\n/);
  for (const spec of Object.values(TABLE)) assert.ok(text.includes(`--${spec.name}`), spec.name);
  const line = (name: string): string => text.split('\n').find((row) => row.includes(`--${name} `) || row.endsWith(`--${name}`)) ?? '';
  assert.match(line('enabled'), /^ {6}--enabled +A bool\.$/, 'false is not printed');
  assert.match(line('elect'), /--elect +A bool that defaults to true\. \(default true\)$/);
  assert.match(line('count'), /^ {2}-c, --count int +An int\. \(default 3\)$/);
  assert.match(line('level'), /-v, --level int .*\(default 1\)$/);
  assert.match(line('port'), /--port int .*\(default 8080\)$/);
  assert.match(line('name'), /--name string .*\(default "default-name"\)$/);
  assert.match(line('empty'), /--empty string +A string without a default\.$/);
  assert.match(line('timeout'), /--timeout duration .*\(default 15s\)$/);
  assert.match(line('items'), /--items strings +A list\.$/);
  assert.match(line('kept'), /--kept strings .*\(default \[a,b\]\)$/);
  assert.match(line('mode'), /--mode string .*\(default "text"\)$/);
  assert.match(text, /-h, --help +Print this help and exit\.\n$/);
  const rows = text.split('\n').filter((row) => /^ {2}(-\w, | {4})--/.test(row));
  assert.deepEqual(rows.map((row) => /--([a-z-]+)/.exec(row)?.[1]), [...Object.values(TABLE).map((spec) => spec.name), 'help']);
  const columns = new Set(rows.map((row) => /^ {2}.*?--\S+( \w+)? {3,}/.exec(row)?.[0].length));
  assert.equal(columns.size, 1, 'usages start in one column');
});
