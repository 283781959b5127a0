/**
 * Go-style command-line flags plus TOML config-file resolution, matching what the original
 * daemons get from Go's `flag` package and `mreiferson/go-options`:
 * priority is explicit command-line flag > config file value > built-in default.
 *
 * The parser is table-driven: a daemon describes its flags as FlagSpec rows and receives a plain
 * record keyed by field name, which its options module turns into a typed object. One file
 * (about 450 lines) because the four parts (Go value syntax, command line, config coercion,
 * `-h` text) share the FlagSpec table and Go's quirks, and are tested together.
 */

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { formatDuration, parseDuration, DurationError } from './duration.js';

/** The value kinds a flag can hold. Durations are milliseconds; arrays accumulate on repeat. */
export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'float' | 'string-array' | 'float-array';

/**
 * A resolved flag value as stored in ParsedFlags.values: string, number (ints, floats, duration
 * milliseconds), boolean, string[] or number[] — or whatever a custom `parse` returns.
 */
export type FlagValue = unknown;

/** One command-line flag and its config-file twin. */
export interface FlagSpec {
  /** Flag name without dashes, e.g. `mem-queue-size`. */
  readonly name: string;
  readonly type: FlagType;
  /** Built-in default (milliseconds for durations). */
  readonly default: FlagValue;
  /** Help text for -h. */
  readonly usage: string;
  /** Key in ParsedFlags.values; defaults to the camelCase flag name. */
  readonly field?: string;
  /** Config-file key; defaults to the flag name with `-` → `_`; `null` = no config key. */
  readonly configKey?: string | null;
  /**
   * Custom parser for a command-line string (and for a config value rendered as text, unless
   * `fromConfig` is given). Throw an Error whose message completes
   * `invalid value "<v>" for flag -<name>: <message>`. For arrays it parses one element.
   */
  readonly parse?: (s: string) => unknown;
  /** Custom config-file coercion; throw an Error to reject the value. */
  readonly fromConfig?: (v: unknown) => unknown;
  /** Default as shown by -h (`''` hides it); computed from `default` when absent. */
  readonly defaultText?: string;
  /** Type word shown by -h after the flag name (Go's `string`, `int`, `duration`, `value`). */
  readonly typeName?: string;
  /**
   * Array flags only: split each command-line value on commas (default true, as the daemons do
   * through go-options). Set false for values that contain commas themselves (`--consumer-opt k,v`).
   */
  readonly splitCommas?: boolean;
}

/** A command-line or config problem; `message` reads like Go's flag package / nsqd's fatal lines. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** The outcome of parsing: values by field name, which flags were explicit, and -h. */
export interface ParsedFlags {
  values: Record<string, FlagValue>;
  /** Flag names given on the command line (they beat the config file). */
  explicit: Set<string>;
  /** True when -h/-help/--help was given; parsing stopped there. */
  help: boolean;
  /** Arguments after `--` or the first non-flag (only when allowPositional). */
  args: string[];
}

/** Options for parseArgs/resolveFlags. */
export interface ParseOptions {
  /** Keep non-flag arguments in `args` instead of failing (Go stops at the first one). */
  allowPositional?: boolean;
  /** Name of the flag holding the config path (default `config`); `null` disables config. */
  configFlag?: string | null;
}

/** `mem-queue-size` → `memQueueSize`: the house rule for option field names. */
export function camelCase(flagName: string): string {
  return flagName.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The key a spec's value is stored under in ParsedFlags.values. */
export function fieldOf(spec: FlagSpec): string {
  return spec.field ?? camelCase(spec.name);
}

/** The config-file key of a spec, or null when it has none. */
export function configKeyOf(spec: FlagSpec): string | null {
  return spec.configKey === undefined ? spec.name.replace(/-/g, '_') : spec.configKey;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return undefined;
}

class ParseProblem extends Error {}
const PARSE_ERROR = 'parse error';
const RANGE_ERROR = 'value out of range';

const INT_RE = /^[+-]?(0[xX][0-9a-fA-F](_?[0-9a-fA-F])*|0[bB][01](_?[01])*|0[oO]?(_?[0-7])*|[1-9](_?[0-9])*)$/;

/** Go's strconv.ParseInt(s, 0, 64) — base prefixes 0x/0o/0b/0 and `_` separators allowed. */
export function parseGoInt(s: string, base0 = true): number {
  if (!base0) {
    if (!/^[+-]?[0-9]+$/.test(s)) throw new ParseProblem(PARSE_ERROR);
    return checkedInt(BigInt(s));
  }
  if (!INT_RE.test(s)) throw new ParseProblem(PARSE_ERROR);
  let neg = false;
  let body = s;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  body = body.replace(/_/g, '');
  let big: bigint;
  if (/^0[xXbBoO]/.test(body)) big = BigInt(body.toLowerCase());
  else if (body.length > 1 && body[0] === '0') big = BigInt('0o' + body.slice(1));
  else big = BigInt(body);
  return checkedInt(neg ? -big : big);
}

function checkedInt(v: bigint): number {
  // Go holds int64; JavaScript numbers are exact only to 2^53, which bounds every real option.
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ParseProblem(RANGE_ERROR);
  }
  return Number(v);
}

const FLOAT_RE = /^[+-]?(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/;
const FLOAT_SPECIAL_RE = /^[+-]?(inf|infinity|nan)$/i;

/** Go's strconv.ParseFloat(s, 64) for decimal input (hex floats are not accepted). */
export function parseGoFloat(s: string): number {
  if (FLOAT_SPECIAL_RE.test(s)) {
    if (/nan/i.test(s)) return NaN;
    return s[0] === '-' ? -Infinity : Infinity;
  }
  if (!FLOAT_RE.test(s)) throw new ParseProblem(PARSE_ERROR);
  return Number(s.replace(/_/g, ''));
}

/** Parses one command-line value for `spec` (one element for arrays); throws ParseProblem. */
function parseScalar(spec: FlagSpec, raw: string): unknown {
  if (spec.parse) {
    try {
      return spec.parse(raw);
    } catch (e) {
      throw new ParseProblem(e instanceof Error ? e.message : String(e));
    }
  }
  switch (spec.type) {
    case 'string':
    case 'string-array':
      return raw;
    case 'int':
      return parseGoInt(raw);
    case 'float':
    case 'float-array':
      return parseGoFloat(raw);
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw new ParseProblem(PARSE_ERROR);
      return b;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (e) {
        if (e instanceof DurationError) throw new ParseProblem(PARSE_ERROR);
        throw e;
      }
  }
}

function isArrayType(t: FlagType): boolean {
  return t === 'string-array' || t === 'float-array';
}

function cloneDefault(v: FlagValue): FlagValue {
  return Array.isArray(v) ? [...v] : v;
}

/** The defaults of every spec, keyed by field. */
export function defaultValues(specs: readonly FlagSpec[]): Record<string, FlagValue> {
  const values: Record<string, FlagValue> = {};
  for (const s of specs) values[fieldOf(s)] = cloneDefault(s.default);
  return values;
}

/**
 * Parses command-line arguments (without the program name) like Go's flag package:
 * `-f v`, `-f=v`, `--f v`, `--f=v`; a boolean flag never consumes the next argument.
 * Array flags accumulate across repeats and split each value on commas.
 * Throws FlagError with Go's wording for unknown flags, missing or bad values.
 */
export function parseArgs(specs: readonly FlagSpec[], argv: readonly string[], opts: ParseOptions = {}): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) byName.set(s.name, s);
  const values = defaultValues(specs);
  const explicit = new Set<string>();
  const result: ParsedFlags = { values, explicit, help: false, args: [] };

  let i = 0;
  for (;;) {
    const arg = argv[i];
    if (arg === undefined) break;
    if (arg.length < 2 || arg[0] !== '-') break; // first non-flag argument
    let numMinuses = 1;
    if (arg[1] === '-') {
      numMinuses = 2;
      if (arg.length === 2) {
        i++; // "--" terminates the flags
        break;
      }
    }
    let name = arg.slice(numMinuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') {
      throw new FlagError(`bad flag syntax: ${arg}`);
    }
    i++;
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = byName.get(name);
    if (!spec) {
      if (name === 'help' || name === 'h') {
        result.help = true;
        return result;
      }
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    if (spec.type === 'bool') {
      if (value === undefined) value = 'true';
    } else if (value === undefined) {
      value = argv[i++];
      if (value === undefined) throw new FlagError(`flag needs an argument: -${name}`);
    }
    setFromCommandLine(spec, value, values, explicit);
  }
  const rest = argv.slice(i);
  if (rest.length > 0 && !opts.allowPositional) {
    throw new FlagError(`unexpected argument ${JSON.stringify(rest[0])} (boolean flags take -flag=false)`);
  }
  result.args = rest;
  return result;
}

function setFromCommandLine(spec: FlagSpec, raw: string, values: Record<string, FlagValue>, explicit: Set<string>): void {
  const field = fieldOf(spec);
  try {
    if (isArrayType(spec.type)) {
      // Repeats accumulate; the default is replaced, not extended.
      const arr = explicit.has(spec.name) ? (values[field] as unknown[]) : [];
      if (spec.splitCommas === false) arr.push(parseScalar(spec, raw));
      else for (const part of raw.split(',')) arr.push(parseScalar(spec, part));
      values[field] = arr;
    } else {
      values[field] = parseScalar(spec, raw);
    }
  } catch (e) {
    if (!(e instanceof ParseProblem)) throw e;
    if (spec.type === 'bool') {
      throw new FlagError(`invalid boolean value ${JSON.stringify(raw)} for -${spec.name}: ${e.message}`);
    }
    throw new FlagError(`invalid value ${JSON.stringify(raw)} for flag -${spec.name}: ${e.message}`);
  }
  explicit.add(spec.name);
}

/** Reads and parses a TOML config file; FlagError `failed to load config file <path> - <why>`. */
export function loadConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? `open ${path}: no such file or directory` : err.message;
    throw new FlagError(`failed to load config file ${path} - ${why}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new FlagError(`failed to load config file ${path} - ${why}`);
  }
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** Text a config value would print as in Go (`%v`), used when feeding custom parsers. */
function configText(v: unknown): string {
  if (Array.isArray(v)) return v.map(configText).join(',');
  return String(v);
}

/** Coerces a config-file value to the flag's type (go-options `coerce`); throws Error(reason). */
function coerceConfig(spec: FlagSpec, v: unknown): unknown {
  if (spec.fromConfig) return spec.fromConfig(v);
  const t = spec.type;
  if (spec.parse && !isArrayType(t)) return spec.parse(configText(v));
  switch (t) {
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
      throw new Error('invalid value type');
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'string') return parseGoInt(v.trim(), false);
      throw new Error('invalid value type');
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'string') return parseGoFloat(v.trim());
      throw new Error('invalid value type');
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        const b = parseGoBool(v);
        if (b === undefined) throw new Error(PARSE_ERROR);
        return b;
      }
      if (typeof v === 'number' && Number.isInteger(v)) return v !== 0;
      throw new Error('invalid value type');
    case 'duration':
      // An integer is milliseconds (go-options); digits-only strings are treated the same way.
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'string') {
        if (/^[0-9]+$/.test(v)) return Number(v);
        return parseDuration(v);
      }
      throw new Error('invalid value type');
    case 'string-array': {
      const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
      if (!items) throw new Error('invalid value type');
      return items.map((x) => {
        if (typeof x !== 'string') throw new Error('array elements must be strings');
        return spec.parse ? spec.parse(x) : x;
      });
    }
    case 'float-array': {
      const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : typeof v === 'number' ? [v] : undefined;
      if (!items) throw new Error('invalid value type');
      return items.map((x) => {
        if (typeof x === 'number') return x;
        if (typeof x === 'string') return spec.parse ? spec.parse(x.trim()) : parseGoFloat(x.trim());
        throw new Error('array elements must be numbers');
      });
    }
  }
}

/**
 * Fills in values from a parsed config table for every flag not given explicitly.
 * Unknown keys are ignored (as go-options does). Throws FlagError naming the key on a bad value.
 */
export function applyConfig(specs: readonly FlagSpec[], parsed: ParsedFlags, config: Record<string, unknown>): void {
  for (const spec of specs) {
    const key = configKeyOf(spec);
    if (key === null || parsed.explicit.has(spec.name)) continue;
    if (!Object.hasOwn(config, key)) continue;
    const raw = config[key];
    try {
      parsed.values[fieldOf(spec)] = coerceConfig(spec, raw);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new FlagError(`failed parsing ${key} ${describe(raw)} in config file - ${why}`);
    }
  }
}

/**
 * Parses argv, then (if the config flag is set) loads the TOML file and applies it underneath
 * the explicit flags. Stops early on -h. Throws FlagError on any problem.
 */
export function resolveFlags(specs: readonly FlagSpec[], argv: readonly string[], opts: ParseOptions = {}): ParsedFlags {
  const parsed = parseArgs(specs, argv, opts);
  if (parsed.help) return parsed;
  const configFlag = opts.configFlag === undefined ? 'config' : opts.configFlag;
  if (configFlag !== null) {
    const spec = specs.find((s) => s.name === configFlag);
    const path = spec ? parsed.values[fieldOf(spec)] : undefined;
    if (typeof path === 'string' && path !== '') applyConfig(specs, parsed, loadConfigFile(path));
  }
  return parsed;
}

function defaultTextOf(spec: FlagSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  switch (spec.type) {
    case 'string':
      return d === '' ? '' : JSON.stringify(d);
    case 'bool':
      return d === true ? 'true' : '';
    case 'int':
    case 'float':
      return d === 0 ? '' : String(d);
    case 'duration':
      return d === 0 ? '' : formatDuration(d as number);
    default:
      return Array.isArray(d) && d.length > 0 ? d.join(',') : '';
  }
}

function typeNameOf(spec: FlagSpec): string {
  if (spec.typeName !== undefined) return spec.typeName;
  switch (spec.type) {
    case 'bool':
      return '';
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'duration':
      return 'duration';
    default:
      return 'value';
  }
}

/** Renders `-h` output like Go's flag.PrintDefaults (flags sorted by name). */
export function formatUsage(program: string, specs: readonly FlagSpec[]): string {
  const lines = [`Usage of ${program}:`];
  const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const spec of sorted) {
    let line = `  -${spec.name}`;
    const typeName = typeNameOf(spec);
    if (typeName) line += ' ' + typeName;
    line += line.length <= 4 ? '\t' : '\n    \t';
    line += spec.usage.replace(/\n/g, '\n    \t');
    const def = defaultTextOf(spec);
    if (def !== '') line += ` (default ${def})`;
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
