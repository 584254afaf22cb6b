/**
 * Header field parsing for the opening handshake, per the grammars of RFC 7230 §3.2.6 and
 * RFC 6455 §9.1. Each parser is one left-to-right pass over the value: linear time on any
 * input, with no regular expression that could backtrack.
 */

/**
 * Loop iterations run by the parsers of this module, so that tests can check that their work
 * grows linearly with the input by counting it (a timing on a shared machine is noise). Each
 * parser counts in a local, its loop index or its Scanner, and adds the count here once per
 * call: no write to module state per character.
 */
let steps = 0;

/** @internal For tests: the loop iterations this module's parsers have run so far. */
export function parserSteps(): number {
  return steps;
}

/** Distinct names kept in a plain list, searched in order; past this, a Map indexes them. */
const SMALL_FIELDS = 16;

/** Header fields of a request or response, looked up case-insensitively. */
export class HeaderMap {
  /**
   * Lower-case name, then its values, for each distinct name in order of arrival: a request's
   * few fields cost one small array rather than a Map. `index` takes over past SMALL_FIELDS
   * names, so that a head with thousands of them is still read in linear time.
   */
  private readonly fields: Array<string | string[]> = [];
  private index: Map<string, string[]> | null = null;

  /** Builds a map from alternating names and values, as in Node's `rawHeaders`. */
  static fromRaw(raw: readonly string[]): HeaderMap {
    const map = new HeaderMap();
    for (let i = 0; i + 1 < raw.length; i += 2) map.add(raw[i], raw[i + 1]);
    return map;
  }

  /** Adds a value to a field (case-insensitive name), after any it already has. */
  add(name: string, value: string): void {
    this.addLowerCase(name.toLowerCase(), value);
  }

  /** @internal `add` for a name known to be in lower case already. */
  addLowerCase(key: string, value: string): void {
    const values = this.find(key);
    if (values !== undefined) {
      values.push(value);
      return;
    }
    const list = [value];
    this.fields.push(key, list);
    if (this.index !== null) this.index.set(key, list);
    else if (this.fields.length > 2 * SMALL_FIELDS) {
      const index = new Map<string, string[]>();
      for (let i = 0; i < this.fields.length; i += 2)
        index.set(this.fields[i] as string, this.fields[i + 1] as string[]);
      this.index = index;
    }
  }

  /** All values of a field, in order (empty when absent). */
  all(name: string): readonly string[] {
    return this.values(name) ?? NONE;
  }

  /** The field's values joined as one comma-separated list (RFC 7230 §3.2.2), or undefined. */
  list(name: string): string | undefined {
    const values = this.values(name);
    return values === undefined ? undefined : values.join(', ');
  }

  /** The value of a field that must appear at most once; throws `DuplicateHeader` otherwise. */
  single(name: string): string | undefined {
    const values = this.values(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw new HeaderSyntaxError(`${name} appears ${values.length} times`);
    return values[0];
  }

  /** The number of distinct field names. */
  get size(): number {
    return this.fields.length / 2;
  }

  /**
   * A field's values. The name is tried as it is first: the server's own lookups are in lower
   * case already, and most find their field at once, with no scan of the name.
   */
  private values(name: string): string[] | undefined {
    const found = this.find(name);
    return found !== undefined || isLowerCase(name) ? found : this.find(name.toLowerCase());
  }

  private find(key: string): string[] | undefined {
    if (this.index !== null) return this.index.get(key);
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === key) return fields[i + 1] as string[];
    return undefined;
  }

  /** Every field as lower-case name → its values joined with ', ' (for error reports). */
  toRecord(): Record<string, string> {
    const record: Record<string, string> = {};
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 2)
      record[fields[i] as string] = (fields[i + 1] as string[]).join(', ');
    return record;
  }
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Names found to be in lower case: a server asks for the same few absent fields (origin,
 * subprotocols, extensions...) on every request, and a set lookup costs less than reading
 * each name again. Only so many, and only short ones, are kept, whatever names callers make up.
 */
const lowerCaseNames = new Set<string>();
const MAX_LOWER_CASE_NAMES = 64;
const MAX_REMEMBERED_NAME = 64;

/** Whether `toLowerCase` would leave `name` as it is: no A-Z, nothing beyond ASCII. */
function isLowerCase(name: string): boolean {
  if (lowerCaseNames.has(name)) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c > 0x7f) return false;
  }
  if (lowerCaseNames.size < MAX_LOWER_CASE_NAMES && name.length <= MAX_REMEMBERED_NAME)
    lowerCaseNames.add(name);
  return true;
}

export class HeaderSyntaxError extends Error {}

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Whether `value` is a non-empty RFC 7230 token. */
export function isToken(value: string): boolean {
  let i = 0;
  while (i < value.length && isTchar(value.charCodeAt(i))) i++;
  steps += i + 1;
  return i > 0 && i === value.length;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Splits `#element` lists on commas, trimming optional white space and skipping empty
 * elements (RFC 7230 §7). Elements are returned as written, without checking their syntax.
 */
export function splitList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let n = 0;
  for (let i = 0; i <= value.length; i++) {
    n++;
    if (i === value.length || value.charCodeAt(i) === 0x2c) {
      let a = start;
      let b = i;
      while (a < b && isOws(value.charCodeAt(a))) {
        a++;
        n++;
      }
      while (b > a && isOws(value.charCodeAt(b - 1))) {
        b--;
        n++;
      }
      if (b > a) items.push(value.slice(a, b));
      start = i + 1;
    }
  }
  steps += n;
  return items;
}

/** Parses `1#token`; throws on an element that is not a token. */
export function parseTokenList(value: string): string[] {
  const items = splitList(value);
  for (const item of items) if (!isToken(item)) throw new HeaderSyntaxError(`not a token: ${clip(item)}`);
  return items;
}

/**
 * Whether a comma-separated header value contains `token`, compared case-insensitively
 * (ASCII letters: a token is ASCII). Elements are compared where they lie, without copies.
 */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  // Most values are the token alone ("websocket", "Upgrade"): one comparison, no list walk.
  if (value.length === token.length && sameLetters(value, 0, token)) {
    steps += value.length;
    return true;
  }
  let start = 0;
  let n = 0;
  for (let i = 0; i <= value.length; i++) {
    n++;
    if (i < value.length && value.charCodeAt(i) !== 0x2c) continue;
    let a = start;
    let b = i;
    while (a < b && isOws(value.charCodeAt(a))) a++;
    while (b > a && isOws(value.charCodeAt(b - 1))) b--;
    n += a - start + (i - b);
    if (b - a === token.length && sameLetters(value, a, token)) {
      steps += n;
      return true;
    }
    start = i + 1;
  }
  steps += n;
  return false;
}

/** Whether `value` from `at` spells ASCII `wanted`, letters compared in either case. */
function sameLetters(value: string, at: number, wanted: string): boolean {
  for (let j = 0; j < wanted.length; j++) {
    const c = value.charCodeAt(at + j);
    const w = wanted.charCodeAt(j);
    if (c !== w && (c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== (w >= 0x41 && w <= 0x5a ? w + 0x20 : w))
      return false;
  }
  return true;
}

/** One offered or accepted extension: its name and parameters in order (`true` for no value). */
export interface ExtensionOffer {
  /** The extension token, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Its parameters in order: `true` for one given without a value, e.g. `client_no_context_takeover`. */
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 *   1#( extension-token *( ";" param ) ),  param = token [ "=" ( token / quoted-string ) ]
 * A quoted value must be a token once unescaped. Throws on any syntax error.
 */
export function parseExtensions(value: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const scanner = new Scanner(value);
  try {
    parseOffers(scanner, offers);
  } finally {
    steps += scanner.steps;
  }
  return offers;
}

function parseOffers(scanner: Scanner, offers: ExtensionOffer[]): void {
  for (;;) {
    scanner.steps++;
    scanner.skipOws();
    if (scanner.done()) break;
    if (scanner.peek() === 0x2c) {
      scanner.pos++; // empty list element
      continue;
    }
    const name = scanner.token('extension name');
    const params: Array<readonly [string, string | true]> = [];
    scanner.skipOws();
    while (scanner.peek() === 0x3b) {
      scanner.steps++;
      scanner.pos++;
      scanner.skipOws();
      const paramName = scanner.token('parameter name');
      scanner.skipOws();
      let paramValue: string | true = true;
      if (scanner.peek() === 0x3d) {
        scanner.pos++;
        scanner.skipOws();
        paramValue = scanner.peek() === 0x22 ? scanner.quotedToken() : scanner.token('parameter value');
        scanner.skipOws();
      }
      params.push([paramName, paramValue]);
    }
    offers.push({ name, params });
    if (scanner.done()) break;
    if (scanner.peek() !== 0x2c) throw new HeaderSyntaxError(`unexpected character at ${scanner.pos}`);
    scanner.pos++;
  }
}

/** Serializes extensions for a `Sec-WebSocket-Extensions` header. */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers
    .map((offer) =>
      [offer.name, ...offer.params.map(([name, value]) => (value === true ? name : `${name}=${value}`))].join(
        '; ',
      ),
    )
    .join(', ');
}

class Scanner {
  pos = 0;
  /** Loop iterations so far (see `steps` above). */
  steps = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipOws(): void {
    const start = this.pos;
    while (this.pos < this.text.length && isOws(this.text.charCodeAt(this.pos))) this.pos++;
    this.steps += this.pos - start + 1; // one iteration per character passed, and the test that ends the loop
  }

  token(what: string): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTchar(this.text.charCodeAt(this.pos))) this.pos++;
    this.steps += this.pos - start + 1;
    if (this.pos === start) throw new HeaderSyntaxError(`expected ${what} at ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, whose content must be a token. */
  quotedToken(): string {
    this.pos++; // opening quote
    let content = '';
    for (;;) {
      this.steps++;
      if (this.done()) throw new HeaderSyntaxError('unterminated quoted string');
      const code = this.text.charCodeAt(this.pos++);
      if (code === 0x22) break;
      if (code === 0x5c) {
        if (this.done()) throw new HeaderSyntaxError('unterminated quoted string');
        content += this.text[this.pos++];
      } else {
        content += this.text[this.pos - 1];
      }
    }
    if (!isToken(content)) throw new HeaderSyntaxError(`quoted value is not a token: ${clip(content)}`);
    return content;
  }
}

function clip(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
