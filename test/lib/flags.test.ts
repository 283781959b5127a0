import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseArgs,
  resolveFlags,
  formatUsage,
  FlagError,
  parseGoInt,
  parseGoFloat,
  parseGoBool,
  type FlagSpec,
} from '../../src/lib/flags.js';
import { tempDir } from '../helpers/daemons.js';

const specs: FlagSpec[] = [
  { name: 'config', type: 'string', default: '', usage: 'path to config file', configKey: null },
  { name: 'name', type: 'string', default: 'x', usage: 'a name' },
  { name: 'size', type: 'int', default: 10000, usage: 'a size' },
  { name: 'on', type: 'bool', default: true, usage: 'a switch' },
  { name: 'off', type: 'bool', default: false, usage: 'another switch' },
  { name: 'timeout', type: 'duration', default: 60000, usage: 'a timeout' },
  { name: 'ratio', type: 'float', default: 0.5, usage: 'a ratio' },
  { name: 'addr', type: 'string-array', default: [], usage: 'addresses', configKey: 'addrs' },
  { name: 'pct', type: 'float-array', default: [], usage: 'percentiles' },
  {
    name: 'level',
    type: 'string',
    default: 'info',
    usage: 'level',
    parse: (s) => {
      if (!['info', 'debug'].includes(s.toLowerCase())) throw new Error(`invalid log level '${s}'`);
      return s.toLowerCase();
    },
  },
];

test('three flag styles and defaults', () => {
  const p = parseArgs(specs, ['-name', 'a', '--size=5', '--timeout', '250ms', '-ratio=1e-1']);
  assert.equal(p.values.name, 'a');
  assert.equal(p.values.size, 5);
  assert.equal(p.values.timeout, 250);
  assert.equal(p.values.ratio, 0.1);
  assert.equal(p.values.on, true);
  assert.deepEqual(p.values.addr, []);
  assert.deepEqual([...p.explicit].sort(), ['name', 'ratio', 'size', 'timeout']);
  assert.equal(p.help, false);
  const d = parseArgs(specs, []);
  assert.equal(d.values.timeout, 60000);
  assert.equal(d.values.size, 10000);
});

test('bool forms never consume the next argument', () => {
  assert.equal(parseArgs(specs, ['--off']).values.off, true);
  for (const t of ['true', 'TRUE', 'True', 't', 'T', '1']) assert.equal(parseArgs(specs, [`--on=${t}`, '--off=' + t]).values.off, true);
  for (const f of ['false', 'FALSE', 'False', 'f', 'F', '0']) assert.equal(parseArgs(specs, [`-on=${f}`]).values.on, false);
  assert.throws(() => parseArgs(specs, ['--on=yes']), { name: 'FlagError', message: 'invalid boolean value "yes" for -on: parse error' });
  assert.throws(() => parseArgs(specs, ['--on', 'false']), FlagError);
  const p = parseArgs(specs, ['--on', 'false'], { allowPositional: true });
  assert.equal(p.values.on, true);
  assert.deepEqual(p.args, ['false']);
});

test('repeatable arrays accumulate and split commas', () => {
  const p = parseArgs(specs, ['--addr', 'a:1', '--addr=b:2,c:3', '-pct', '0.99', '--pct=0.5,1.0']);
  assert.deepEqual(p.values.addr, ['a:1', 'b:2', 'c:3']);
  assert.deepEqual(p.values.pct, [0.99, 0.5, 1]);
  assert.throws(() => parseArgs(specs, ['--pct=0.5,x']), { message: 'invalid value "0.5,x" for flag -pct: parse error' });
});

test('int, duration and custom parse errors read like Go', () => {
  assert.equal(parseArgs(specs, ['--size=-3']).values.size, -3);
  assert.equal(parseArgs(specs, ['--size=0x10']).values.size, 16);
  assert.equal(parseArgs(specs, ['--timeout=0']).values.timeout, 0);
  assert.equal(parseArgs(specs, ['--timeout=1h2m3.5s']).values.timeout, 3723500);
  assert.equal(parseArgs(specs, ['--timeout=1us']).values.timeout, 0.001);
  assert.throws(() => parseArgs(specs, ['--size=x']), { message: 'invalid value "x" for flag -size: parse error' });
  assert.throws(() => parseArgs(specs, ['--size=1.5']), { message: 'invalid value "1.5" for flag -size: parse error' });
  assert.throws(() => parseArgs(specs, ['--size=99999999999999999999']), {
    message: 'invalid value "99999999999999999999" for flag -size: value out of range',
  });
  assert.throws(() => parseArgs(specs, ['--timeout=60']), { message: 'invalid value "60" for flag -timeout: parse error' });
  assert.throws(() => parseArgs(specs, ['--level=loud']), { message: `invalid value "loud" for flag -level: invalid log level 'loud'` });
  assert.equal(parseArgs(specs, ['--level=DEBUG']).values.level, 'debug');
  assert.throws(() => parseArgs(specs, ['--foo']), { message: 'flag provided but not defined: -foo' });
  assert.throws(() => parseArgs(specs, ['--size']), { message: 'flag needs an argument: -size' });
  assert.throws(() => parseArgs(specs, ['---size=1']), { message: 'bad flag syntax: ---size=1' });
  assert.throws(() => parseArgs(specs, ['stray']), FlagError);
});

test('help flags and --', () => {
  for (const h of ['-h', '-help', '--help', '--h']) assert.equal(parseArgs(specs, ['--size=1', h, '--bogus']).help, true);
  const p = parseArgs(specs, ['--size=2', '--', 'x'], { allowPositional: true });
  assert.equal(p.values.size, 2);
  assert.deepEqual(p.args, ['x']);
});

test('Go number parsers', () => {
  assert.equal(parseGoInt('010'), 8);
  assert.equal(parseGoInt('0b11'), 3);
  assert.equal(parseGoInt('1_000'), 1000);
  assert.equal(parseGoInt('-0o17'), -15);
  assert.throws(() => parseGoInt(''));
  assert.throws(() => parseGoInt(' 1'));
  assert.equal(parseGoFloat('.5'), 0.5);
  assert.equal(parseGoFloat('1.'), 1);
  assert.equal(parseGoFloat('-Inf'), -Infinity);
  assert.throws(() => parseGoFloat(''));
  assert.throws(() => parseGoFloat('0x10'));
  assert.equal(parseGoBool('T'), true);
  assert.equal(parseGoBool('yes'), undefined);
});

test('config file: flag > config > default, arrays, durations, unknown keys', (t) => {
  const dir = tempDir('flags-test-', t);
  const file = join(dir, 'c.toml');
  writeFileSync(
    file,
    [
      'name = "from-config"',
      'size = 7',
      'on = false',
      'timeout = "1h30m"',
      'ratio = 2',
      'addrs = ["h1:4160", "h2:4160"]',
      'pct = "0.9, 0.5"',
      'level = "DEBUG"',
      'unknown_key = 1',
    ].join('\n'),
  );
  const p = resolveFlags(specs, ['--config', file, '--size=3']);
  assert.equal(p.values.size, 3); // explicit flag wins
  assert.equal(p.values.name, 'from-config');
  assert.equal(p.values.on, false);
  assert.equal(p.values.timeout, 5400000);
  assert.equal(p.values.ratio, 2);
  assert.deepEqual(p.values.addr, ['h1:4160', 'h2:4160']);
  assert.deepEqual(p.values.pct, [0.9, 0.5]);
  assert.equal(p.values.level, 'debug');
  assert.equal(p.values.off, false); // default

  writeFileSync(file, 'timeout = 2500\naddrs = "a:1,b:2"\n');
  const q = resolveFlags(specs, ['--config=' + file, '--addr=z:9']);
  assert.equal(q.values.timeout, 2500); // integer = milliseconds
  assert.deepEqual(q.values.addr, ['z:9']);

  writeFileSync(file, 'size = "abc"\n');
  assert.throws(() => resolveFlags(specs, ['--config', file]), { name: 'FlagError', message: /size "abc"/ });
  writeFileSync(file, 'timeout = "5x"\n');
  assert.throws(() => resolveFlags(specs, ['--config', file]), { message: /timeout "5x".*unknown unit/ });
  writeFileSync(file, 'level = "loud"\n');
  assert.throws(() => resolveFlags(specs, ['--config', file]), { message: /level "loud"/ });
  writeFileSync(file, 'size = \n');
  assert.throws(() => resolveFlags(specs, ['--config', file]), { message: new RegExp(`^failed to load config file ${file} - `) });
  const missing = join(dir, 'nope.toml');
  assert.throws(() => resolveFlags(specs, ['--config', missing]), {
    message: `failed to load config file ${missing} - open ${missing}: no such file or directory`,
  });
});

test('formatUsage looks like Go PrintDefaults', () => {
  const u = formatUsage('demo', specs);
  assert.ok(u.startsWith('Usage of demo:\n  -addr value\n    \taddresses\n'));
  assert.ok(u.includes('  -name string\n    \ta name (default "x")\n'));
  assert.ok(u.includes('  -on\n    \ta switch (default true)\n'));
  assert.ok(u.includes('  -off\n    \tanother switch\n'));
  assert.ok(u.includes('  -size int\n    \ta size (default 10000)\n'));
  assert.ok(u.includes('  -timeout duration\n    \ta timeout (default 1m0s)\n'));
});
