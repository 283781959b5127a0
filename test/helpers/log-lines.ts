/** Assertions on daemon log output in NSQ's format (`<prefix>YYYY/MM/DD hh:mm:ss.uuuuuu LEVEL: text`). */

/** The text of every log line after `<prefix><date> <time> ` (e.g. `INFO: TCP: new client(…)`). */
export function logTexts(logs: string, prefix = '[nsqd] '): string[] {
  const out: string[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} (.*)$/.exec(line.slice(prefix.length));
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Asserts that `expected` lines appear in `lines` in this order (other lines may sit between). */
export function inOrder(lines: readonly string[], expected: readonly (string | RegExp)[]): string | null {
  let i = 0;
  for (const e of expected) {
    while (i < lines.length && !(typeof e === 'string' ? lines[i] === e : e.test(lines[i]!))) i++;
    if (i === lines.length) return `missing (in order): ${String(e)}`;
    i++;
  }
  return null;
}
