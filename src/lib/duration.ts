/**
 * Go `time.Duration` text compatibility: parsing (`time.ParseDuration`) and formatting
 * (`Duration.String()`), so flags, config files, logs and /stats read exactly like the original.
 *
 * The project represents durations as milliseconds (a `number`, possibly fractional); Go works in
 * integer nanoseconds, so both directions convert at the edge and round to whole nanoseconds.
 */

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // U+00B5 micro sign
  ['\u03bcs', 1_000n], // U+03BC greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_NS = 1n << 63n; // Go's int64 range; the magnitude may reach 2^63 only when negative

/** The error `parseDuration` throws; `message` is Go's (`time: invalid duration "x"`). */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Go's `%q` for the ASCII/UTF-8 strings that appear in flag values. */
function quote(s: string): string {
  return JSON.stringify(s);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Go's leadingFraction + `float64(f) * (float64(unit) / scale)`, digit for digit. */
function fractionNs(digits: string, unit: bigint): number {
  const limit = (MAX_NS - 1n) / 10n;
  let f = 0n;
  let scale = 1;
  for (const ch of digits) {
    if (f > limit) break; // further digits are below float64 precision anyway
    f = f * 10n + BigInt(ch.charCodeAt(0) - 48);
    scale *= 10;
  }
  return Number(f) * (Number(unit) / scale);
}

/**
 * Parses a Go duration string (`1h2m3.5s`, `250ms`, `-1.5us`, `0`) into integer nanoseconds.
 * Throws DurationError with Go's message on malformed input (e.g. a bare `5`: missing unit).
 */
export function parseDurationNs(input: string): bigint {
  let s = input;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new DurationError(`time: invalid duration ${quote(input)}`);
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (!(c === '.' || isDigit(c))) throw new DurationError(`time: invalid duration ${quote(input)}`);
    const intStart = i;
    while (i < s.length && isDigit(s[i])) i++;
    const intDigits = s.slice(intStart, i);
    let fracDigits = '';
    let hasFrac = false;
    if (i < s.length && s[i] === '.') {
      i++;
      const fracStart = i;
      while (i < s.length && isDigit(s[i])) i++;
      fracDigits = s.slice(fracStart, i);
      hasFrac = fracDigits.length > 0;
    }
    if (intDigits === '' && !hasFrac) throw new DurationError(`time: invalid duration ${quote(input)}`);
    const unitStart = i;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    if (i === unitStart) throw new DurationError(`time: missing unit in duration ${quote(input)}`);
    const unitText = s.slice(unitStart, i);
    const unit = NS_PER_UNIT.get(unitText);
    if (unit === undefined) {
      throw new DurationError(`time: unknown unit ${quote(unitText)} in duration ${quote(input)}`);
    }
    let v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > MAX_NS / unit) throw new DurationError(`time: invalid duration ${quote(input)}`);
    v *= unit;
    if (hasFrac) {
      v += BigInt(Math.trunc(fractionNs(fracDigits, unit)));
      if (v > MAX_NS) throw new DurationError(`time: invalid duration ${quote(input)}`);
    }
    total += v;
    if (total > MAX_NS) throw new DurationError(`time: invalid duration ${quote(input)}`);
  }
  if (!neg && total === MAX_NS) throw new DurationError(`time: invalid duration ${quote(input)}`);
  return neg ? -total : total;
}

/** Parses a Go duration string into milliseconds (fractional below 1 ms). See parseDurationNs. */
export function parseDuration(s: string): number {
  return Number(parseDurationNs(s)) / 1e6;
}

/** Converts milliseconds to the integer nanoseconds Go would hold (e.g. for /config JSON). */
export function msToNs(ms: number): number {
  return Math.round(ms * 1e6);
}

/** Writes the low `prec` digits of `v` as a fraction, trimming trailing zeros (Go's fmtFrac). */
function fmtFrac(v: number, prec: number): [string, number] {
  let out = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10;
    print = print || digit !== 0;
    if (print) out = String(digit) + out;
    v = Math.floor(v / 10);
  }
  return [print ? '.' + out : '', v];
}

/**
 * Formats milliseconds like Go's `time.Duration.String()`: `0s`, `1.5µs`, `250ms`, `1m0s`,
 * `1h0m0s`, `1m5.348292186s`. The value is rounded to whole nanoseconds first.
 */
export function formatDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0 || !Number.isFinite(ns)) return '0s';
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    let unit: string;
    let prec: number;
    if (ns < 1e3) {
      unit = 'ns';
      prec = 0;
    } else if (ns < 1e6) {
      unit = '\u00b5s';
      prec = 3;
    } else {
      unit = 'ms';
      prec = 6;
    }
    const [frac, whole] = fmtFrac(ns, prec);
    out = `${whole}${frac}${unit}`;
  } else {
    const [frac, secsTotal] = fmtFrac(ns, 9);
    out = `${secsTotal % 60}${frac}s`;
    const mins = Math.floor(secsTotal / 60);
    if (mins > 0) {
      out = `${mins % 60}m${out}`;
      const hours = Math.floor(mins / 60);
      if (hours > 0) out = `${hours}h${out}`;
    }
  }
  return neg ? '-' + out : out;
}
