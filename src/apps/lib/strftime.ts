/**
 * strftime for nsq_to_file's `<DATETIME>` (upstream `apps/nsq_to_file/strftime.go`, after
 * jehiah/go-strftime): a fixed set of conversions rendered from local time; any other `%x`
 * sequence is copied through literally.
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** The local zone's abbreviation (`UTC`, `CET`, or `GMT+1` where the platform has no name). */
function zoneAbbrev(t: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(t).find((p) => p.type === 'timeZoneName');
  return part ? part.value : 'UTC';
}

/** Go's `-0700` numeric zone. */
function zoneOffset(t: Date): string {
  const off = -t.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

function convert(c: string, t: Date): string | undefined {
  switch (c) {
    case 'B':
      return MONTHS[t.getMonth()]!;
    case 'b':
      return MONTHS[t.getMonth()]!.slice(0, 3);
    case 'm':
      return pad2(t.getMonth() + 1);
    case 'A':
      return DAYS[t.getDay()]!;
    case 'a':
      return DAYS[t.getDay()]!.slice(0, 3);
    case 'd':
      return pad2(t.getDate());
    case 'H':
      return pad2(t.getHours());
    case 'I': {
      const h = t.getHours() % 12;
      return pad2(h === 0 ? 12 : h);
    }
    case 'M':
      return pad2(t.getMinutes());
    case 'S':
      return pad2(t.getSeconds());
    case 'Y':
      return String(t.getFullYear()).padStart(4, '0');
    case 'y':
      return pad2(t.getFullYear() % 100);
    case 'p':
      return t.getHours() < 12 ? 'AM' : 'PM';
    case 'Z':
      return zoneAbbrev(t);
    case 'z':
      return zoneOffset(t);
    case '%':
      return '%';
    default:
      return undefined;
  }
}

/** Renders `format` for the local time `t`. */
export function strftime(format: string, t: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch !== '%' || i === format.length - 1) {
      out += ch;
      continue;
    }
    const c = format.charAt(++i);
    const v = convert(c, t);
    out += v === undefined ? '%' + c : v;
  }
  return out;
}
