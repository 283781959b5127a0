import assert from 'node:assert/strict';

/**
 * Test-side reader of the Prometheus exposition format (GET /metrics), written independently of
 * src/nsqd/prometheus.ts so the tests check the format, not the renderer against itself.
 */

/** One sample line: metric name, its labels (unescaped) and value (`+Inf`/`NaN` included). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its TYPE and HELP text and its samples in file order. */
export interface ParsedFamily {
  type?: string;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict parser for the Prometheus text format 0.0.4, enough to reject anything malformed:
 * fails an assertion (throws) on bad names, escapes, values, duplicate HELP/TYPE/series, a TYPE
 * after samples, a family split in two, or a family without TYPE. Families by name.
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  assert.ok(text.endsWith('\n'), 'exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const enter = (name: string): ParsedFamily => {
    if (current !== name) {
      assert.ok(!finished.has(name), `family ${name} is not contiguous`);
      if (current !== null) finished.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) {
        assert.ok(!/^# (HELP|TYPE)/.test(line), `malformed ${line}`);
        continue; // plain comment
      }
      const [, kind, name, rest] = m;
      assert.match(name!, METRIC_NAME);
      const f = enter(name!);
      if (kind === 'HELP') {
        assert.equal(f.help, undefined, `duplicate HELP for ${name}`);
        assert.ok(!/\\[^\\n]/.test(rest!.replace(/\\\\/g, '')), `bad escape in HELP ${line}`);
        f.help = rest;
      } else {
        assert.equal(f.type, undefined, `duplicate TYPE for ${name}`);
        assert.equal(f.samples.length, 0, `TYPE after samples for ${name}`);
        assert.ok(TYPES.has(rest!), `bad type ${rest}`);
        f.type = rest;
      }
      continue;
    }
    // name{labels} value [timestamp]
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    assert.match(name, METRIC_NAME);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        let j = i;
        while (line[j] !== '=') {
          assert.ok(j < line.length, `unterminated label in ${line}`);
          j++;
        }
        const lname = line.slice(i, j);
        assert.match(lname, LABEL_NAME);
        assert.ok(!(lname in labels), `duplicate label ${lname}`);
        assert.equal(line[j + 1], '"', `label value must be quoted in ${line}`);
        let k = j + 2;
        let value = '';
        for (;;) {
          const c = line[k];
          assert.ok(c !== undefined, `unterminated label value in ${line}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[k + 1];
            if (e === '\\') value += '\\';
            else if (e === '"') value += '"';
            else if (e === 'n') value += '\n';
            else assert.fail(`bad escape \\${e} in ${line}`);
            k += 2;
            continue;
          }
          value += c;
          k++;
        }
        labels[lname] = value;
        i = k + 1;
        if (line[i] === ',') i++;
        else assert.equal(line[i], '}', `expected , or } in ${line}`);
      }
      i++;
    }
    assert.equal(line[i], ' ', `expected a space before the value in ${line}`);
    const parts = line.slice(i + 1).split(' ');
    assert.ok(parts.length === 1 || (parts.length === 2 && /^-?\d+$/.test(parts[1]!)), `bad value/timestamp in ${line}`);
    assert.match(parts[0]!, FLOAT);
    const f = enter(name);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!series.has(key), `duplicate series ${key}`);
    series.add(key);
    f.samples.push({ name, labels, value: Number(parts[0]!.replace('Inf', 'Infinity')) });
  }
  for (const [name, f] of families) assert.ok(f.type, `family ${name} has no TYPE`);
  return families;
}

const labelKey = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort());

/** The value of the sample of family `name` with exactly these labels, or undefined when absent. */
export function findSample(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number | undefined {
  const key = labelKey(labels);
  return fams.get(name)?.samples.find((x) => labelKey(x.labels) === key)?.value;
}

/** Like findSample, but the family and the sample must exist (assertion failure otherwise). */
export function requireSample(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number {
  const f = fams.get(name);
  assert.ok(f, `family ${name}`);
  const key = labelKey(labels);
  const s = f.samples.find((x) => labelKey(x.labels) === key);
  assert.ok(s, `${name}${key}`);
  return s.value;
}
