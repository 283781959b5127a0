// Auth servers send Go RE2 patterns (tcp-protocol.md §11.3). JS RegExp syntax overlaps but differs:
// some RE2 syntax means something else in JS (`\A`, `\z`, `\Q…\E`, `[[:alpha:]]`, `(?P<n>`, `[]a]`,
// `\s`, `.`), and some JS syntax is not RE2 at all (lookaround, backreferences). This translates
// the common subset exactly and rejects the rest, so a grant never silently means something else.

/** A pattern that is invalid RE2, or valid RE2 this port cannot express faithfully. */
export class Re2SyntaxError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid or unsupported RE2 pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'Re2SyntaxError';
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const RE2_SPACE = '\\t\\n\\f\\r ';
const MAX_REPEAT = 1000;

/** Compiles an RE2 pattern into an equivalent JS RegExp with unanchored-search semantics; throws Re2SyntaxError. */
export function compileRe2(pattern: string): RegExp {
  const t = new Re2Translator(pattern);
  const source = t.translate();
  try {
    return new RegExp(source, t.jsFlags);
  } catch (err) {
    throw new Re2SyntaxError(pattern, (err as Error).message);
  }
}

class Re2Translator {
  readonly #p: string;
  #i = 0;
  #out = '';
  #dotAll = false;
  jsFlags = '';

  constructor(pattern: string) {
    this.#p = pattern;
  }

  #fail(reason: string): never {
    throw new Re2SyntaxError(this.#p, reason);
  }

  translate(): string {
    this.#leadingFlags();
    const p = this.#p;
    while (this.#i < p.length) {
      const c = p[this.#i]!;
      switch (c) {
        case '\\':
          this.#escape(false);
          break;
        case '[':
          this.#charClass();
          break;
        case '(':
          this.#group();
          break;
        case '.':
          this.#out += this.#dotAll ? '[\\s\\S]' : '[^\\n]';
          this.#i++;
          break;
        case '{':
          this.#brace();
          break;
        case '}':
        case ']':
          this.#out += '\\' + c;
          this.#i++;
          break;
        default:
          this.#out += c;
          this.#i++;
      }
    }
    return this.#out;
  }

  // RE2 allows `(?flags)` anywhere; only a leading one maps onto JS RegExp flags.
  #leadingFlags(): void {
    const p = this.#p;
    let m: RegExpExecArray | null;
    const re = /^\(\?([a-zA-Z-]*)\)/;
    while ((m = re.exec(p.slice(this.#i))) !== null) {
      if (m[1] === '') this.#fail('empty flag group (?)');
      for (const f of m[1]!) {
        if (f === 'i') {
          if (!this.jsFlags.includes('i')) this.jsFlags += 'i';
        } else if (f === 'm') {
          if (!this.jsFlags.includes('m')) this.jsFlags += 'm';
        } else if (f === 's') this.#dotAll = true;
        else this.#fail(`unsupported flag group (?${m[1]})`);
      }
      this.#i += m[0].length;
    }
  }

  #group(): void {
    const p = this.#p;
    if (p[this.#i + 1] !== '?') {
      this.#out += '(';
      this.#i++;
      return;
    }
    const rest = p.slice(this.#i + 2);
    if (rest.startsWith(':')) {
      this.#out += '(?:';
      this.#i += 3;
      return;
    }
    // Named groups become plain groups: names have no effect on matching.
    const named = /^(?:P<|<)([A-Za-z0-9_]+)>/.exec(rest);
    if (named) {
      this.#out += '(';
      this.#i += 2 + named[0].length;
      return;
    }
    this.#fail(`unsupported group syntax (?${rest.slice(0, 3)}`);
  }

  #brace(): void {
    const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.#p.slice(this.#i));
    if (!m) {
      // Not a repetition: RE2 takes `{` literally.
      this.#out += '\\{';
      this.#i++;
      return;
    }
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min)) this.#fail(`invalid repeat count ${m[0]}`);
    this.#out += m[0];
    this.#i += m[0].length;
  }

  #charClass(): void {
    const p = this.#p;
    this.#out += '[';
    this.#i++;
    if (p[this.#i] === '^') {
      this.#out += '^';
      this.#i++;
    }
    // In RE2 a `]` right after `[` or `[^` is a literal; in JS it would close an empty class.
    if (p[this.#i] === ']') {
      this.#out += '\\]';
      this.#i++;
    }
    while (this.#i < p.length) {
      const c = p[this.#i]!;
      if (c === ']') {
        this.#out += ']';
        this.#i++;
        return;
      }
      if (c === '\\') {
        this.#escape(true);
        continue;
      }
      if (c === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(this.#i));
        if (posix) {
          const ranges = POSIX_CLASSES[posix[2]!];
          if (ranges === undefined) this.#fail(`invalid character class range [:${posix[2]}:]`);
          if (posix[1] === '^') this.#fail('negated POSIX classes are not supported');
          this.#out += ranges;
          this.#i += posix[0].length;
          continue;
        }
        this.#out += '\\[';
        this.#i++;
        continue;
      }
      this.#out += c;
      this.#i++;
    }
    this.#fail('missing closing ]');
  }

  #escape(inClass: boolean): void {
    const p = this.#p;
    const c = p[this.#i + 1];
    if (c === undefined) this.#fail('trailing backslash');
    this.#i += 2;
    switch (c) {
      case 'a':
        this.#out += '\\x07';
        return;
      case 'f':
      case 't':
      case 'n':
      case 'r':
      case 'v':
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.#out += '\\' + c;
        return;
      case 's':
        this.#out += inClass ? RE2_SPACE : `[${RE2_SPACE}]`;
        return;
      case 'S':
        this.#out += inClass ? '\\S' : `[^${RE2_SPACE}]`;
        return;
      case 'b':
      case 'B':
        if (inClass) this.#fail(`invalid escape \\${c} in class`);
        this.#out += '\\' + c;
        return;
      case 'A':
        if (inClass) this.#fail('invalid escape \\A in class');
        this.#out += '(?<![\\s\\S])';
        return;
      case 'z':
        if (inClass) this.#fail('invalid escape \\z in class');
        this.#out += '(?![\\s\\S])';
        return;
      case 'Q': {
        if (inClass) this.#fail('invalid escape \\Q in class');
        const end = p.indexOf('\\E', this.#i);
        const literal = end === -1 ? p.slice(this.#i) : p.slice(this.#i, end);
        this.#i = end === -1 ? p.length : end + 2;
        if (literal !== '') this.#out += `(?:${literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')})`;
        return;
      }
      case 'x':
        this.#codePoint(this.#hex(), inClass);
        return;
    }
    if (c >= '0' && c <= '7') {
      this.#codePoint(this.#octal(c), inClass);
      return;
    }
    // RE2 allows escaping any ASCII punctuation; letters/digits left are unknown escapes or
    // backreferences, which RE2 does not have.
    if (c < '\x80' && !/[0-9A-Za-z]/.test(c)) {
      this.#out += '\\' + c;
      return;
    }
    this.#fail(`invalid escape \\${c}`);
  }

  #octal(first: string): number {
    const p = this.#p;
    // `\1`-`\7` alone would be a backreference; RE2 only takes them as octal with more digits.
    if (first !== '0' && !(p[this.#i]! >= '0' && p[this.#i]! <= '7')) this.#fail(`backreference \\${first} is not supported`);
    let digits = first;
    while (digits.length < 3 && p[this.#i]! >= '0' && p[this.#i]! <= '7') digits += p[this.#i++];
    return parseInt(digits, 8);
  }

  #hex(): number {
    const p = this.#p;
    if (p[this.#i] === '{') {
      const end = p.indexOf('}', this.#i);
      const digits = end === -1 ? '' : p.slice(this.#i + 1, end);
      if (!/^[0-9A-Fa-f]{1,8}$/.test(digits)) this.#fail('invalid \\x{...} escape');
      const v = parseInt(digits, 16);
      if (v > 0x10ffff) this.#fail('invalid \\x{...} escape');
      this.#i = end + 1;
      return v;
    }
    const digits = p.slice(this.#i, this.#i + 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(digits)) this.#fail('invalid \\x escape');
    this.#i += 2;
    return parseInt(digits, 16);
  }

  #codePoint(v: number, inClass: boolean): void {
    if (v <= 0xffff) {
      this.#out += '\\u' + v.toString(16).padStart(4, '0');
      return;
    }
    if (inClass) this.#fail('astral code points in classes are not supported');
    const s = String.fromCodePoint(v);
    this.#out += `(?:\\u${s.charCodeAt(0).toString(16)}\\u${s.charCodeAt(1).toString(16)})`;
  }
}
