import { HandshakeError } from '../errors.js';
import { HeadBytes } from './head-bytes.js';
import { HeaderMap, listHasToken } from './headers.js';
import { DEFAULT_HEAD_LIMITS } from './http-head.js';

/**
 * A request head as the reader found it: the request line and header fields (RFC 9112 §3,
 * §5), and every byte read so far, so that another HTTP parser can take the connection over.
 */
export interface RequestHead {
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** "1.1" for HTTP/1.1. */
  readonly httpVersion: string;
  /** Alternating names and values (values without surrounding white space), as Node's `rawHeaders`; made on first use. */
  readonly rawHeaders: string[];
  /** The fields by lower-case name, made as the head is read. */
  readonly headers: HeaderMap;
  /** How many fields the head has. */
  readonly fieldCount: number;
  /** Every byte read: the head, then whatever followed it in the same reads. */
  readonly received: Buffer;
  /** Where the head ends in `received` (just past its blank line). */
  readonly headLength: number;
}

/** Limits of the request-head reader; the defaults match Node's HTTP server. */
export interface RequestHeadLimits {
  /** Most bytes before the blank line that ends the head (request line and fields). Default 16 KiB. */
  readonly maxHeaderBytes: number;
}

// Parser states, one per position in the grammar.
const LINE_START = 0; // before the request line; empty lines there are skipped (RFC 9112 §2.2)
const LEADING_LF = 1;
const METHOD = 2;
const TARGET_START = 3;
const TARGET = 4;
const VERSION = 5;
const REQUEST_LINE_LF = 6;
const FIELD_START = 7;
const NAME = 8;
const VALUE_OWS = 9;
const VALUE = 10;
const FIELD_LF = 11;
const HEAD_END_LF = 12;
const DONE = 13;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

// Byte classes: tchar (RFC 9110 §5.6.2), VCHAR, field-vchar (VCHAR / obs-text), and what a
// field value may hold between its first and last field-vchar (field-vchar, SP, HTAB).
const TCHAR = 1;
const VCHAR = 2;
const FIELD_VCHAR = 4;
const IN_VALUE = 8;
const CLASS = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) CLASS[c] |= VCHAR | FIELD_VCHAR | IN_VALUE;
for (let c = 0x80; c <= 0xff; c++) CLASS[c] |= FIELD_VCHAR | IN_VALUE;
CLASS[0x20] |= IN_VALUE;
CLASS[0x09] |= IN_VALUE;
for (const c of "!#$%&'*+-.^_`|~") CLASS[c.charCodeAt(0)] |= TCHAR;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] |= TCHAR;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] |= TCHAR;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] |= TCHAR;

/** "HTTP/1.0" or "HTTP/1.1": the bytes a version must have, 0 where the minor digit goes. */
const VERSION_SHAPE = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0];

/**
 * Reads an HTTP/1.1 request head strictly, in one pass over each byte as it arrives, so a
 * head split anywhere costs the same as one read and garbage is refused at its first bad
 * byte. Refused with 400: a request line other than `method SP request-target SP
 * HTTP/1.x` (1.0 or 1.1, the versions this grammar is for), a field name that is not a token or is followed by white space, control
 * characters in a value, obsolete line folding (RFC 9112 §5.2 lets a server refuse it), and
 * any line ending other than CRLF (a bare LF or CR). Refused with 431: more than
 * `maxHeaderBytes` before the blank line. Empty lines before the request line are skipped.
 * How many fields there are is left to the caller (`rawHeaders.length / 2`): the limit on
 * them differs between upgrade requests and the others.
 */
export class RequestHeadReader {
  private readonly maxBytes: number;
  private state = LINE_START;
  /** Bytes so far: a chunk is used as it is, and copied (`keep()`) once the head is known to be incomplete. */
  private readonly gathered = new HeadBytes();
  private methodStart = 0;
  private methodEnd = 0;
  private targetStart = 0;
  private targetEnd = 0;
  private versionAt = 0;
  /** Per field: name start, name end, value start, value end (offsets in the buffer). */
  private readonly fields: number[] = [];
  private nameStart = 0;
  private nameEnd = 0;
  private valueStart = 0;
  private valueEnd = 0;
  /** Iterations of the grammar loop, added once per read. */
  private scanned = 0;

  constructor(limits: RequestHeadLimits = DEFAULT_HEAD_LIMITS) {
    this.maxBytes = limits.maxHeaderBytes;
  }

  /** Bytes read so far. */
  get received(): number {
    return this.gathered.size;
  }

  /**
   * @internal For tests: bytes scanned by the grammar and copied while gathering so far, to
   * check without timing that the work stays linear in the head's size however it is split.
   */
  get work(): number {
    return this.scanned + this.gathered.copied;
  }

  /** Takes the next bytes: the head once complete, null while more are needed. Throws HandshakeError. */
  push(chunk: Buffer): RequestHead | null {
    if (this.state === DONE) throw new Error('the request head is complete already');
    const gathered = this.gathered;
    const from = gathered.size;
    gathered.append(chunk);
    const end = this.scan(gathered.bytes, from, gathered.size);
    if (end === -1) {
      gathered.keep();
      return null;
    }
    return this.head(end);
  }

  /** Runs the grammar over bytes [from, to); returns where the head ends, or -1. */
  private scan(bytes: Buffer, from: number, to: number): number {
    let state = this.state;
    // Read through a local: V8 then keeps the table's memory in a register for the loops,
    // where the module's binding was loaded and checked again for every byte (8% of a head).
    const classOf = CLASS;
    // The limit holds for the head before its blank line; that line's CRLF may follow it.
    const stop = Math.min(to, this.maxBytes + 2);
    let i = from;
    for (; i < stop; i++) {
      let c = bytes[i];
      switch (state) {
        case LINE_START:
          if (c === CR) state = LEADING_LF;
          else if ((classOf[c] & TCHAR) !== 0) {
            this.methodStart = i;
            state = METHOD;
          } else throw malformed('request line');
          break;
        case LEADING_LF:
          if (c !== LF) throw malformed('line ending');
          state = LINE_START;
          break;
        case METHOD:
          if (c === SP) {
            this.methodEnd = i;
            state = TARGET_START;
          } else if ((classOf[c] & TCHAR) === 0) throw malformed('method');
          break;
        case TARGET_START:
          if ((classOf[c] & FIELD_VCHAR) === 0) throw malformed('request target');
          this.targetStart = i;
          state = TARGET;
          break;
        case TARGET:
          // The runs of a target, a name or a value are read in an inner loop; it stops at the
          // byte that ends the run (handled as the switch would) or before the end of the read.
          while ((classOf[c] & FIELD_VCHAR) !== 0 && i + 1 < stop) c = bytes[++i];
          if (c === SP) {
            this.targetEnd = i;
            this.versionAt = i + 1;
            state = VERSION;
          } else if ((classOf[c] & FIELD_VCHAR) === 0) throw malformed('request target');
          break;
        case VERSION: {
          const at = i - this.versionAt;
          if (at === VERSION_SHAPE.length) {
            if (c !== CR) throw malformed('HTTP version');
            state = REQUEST_LINE_LF;
          } else {
            const want = VERSION_SHAPE[at];
            if (want === 0 ? c !== 0x30 && c !== 0x31 : c !== want) throw malformed('HTTP version');
          }
          break;
        }
        case REQUEST_LINE_LF:
          if (c !== LF) throw malformed('line ending');
          state = FIELD_START;
          break;
        case FIELD_START:
          if ((classOf[c] & TCHAR) !== 0) {
            this.nameStart = i;
            state = NAME;
          } else if (c === CR) state = HEAD_END_LF;
          else if (c === SP || c === HTAB) throw malformed('header line (obsolete line folding)');
          else throw malformed('header name');
          break;
        case NAME:
          while ((classOf[c] & TCHAR) !== 0 && i + 1 < stop) c = bytes[++i];
          if (c === COLON) {
            this.nameEnd = i;
            state = VALUE_OWS;
          } else if ((classOf[c] & TCHAR) === 0) throw malformed('header name');
          break;
        case VALUE_OWS:
          if ((classOf[c] & FIELD_VCHAR) !== 0) {
            this.valueStart = i;
            state = VALUE;
          } else if (c === CR) {
            this.valueStart = i;
            this.valueEnd = i;
            state = FIELD_LF;
          } else if (c !== SP && c !== HTAB) throw malformed('header value');
          break;
        case VALUE: {
          // The run may hold white space; what trails the last field-vchar is trimmed at the CR.
          while ((classOf[c] & IN_VALUE) !== 0 && i + 1 < stop) c = bytes[++i];
          if (c === CR) {
            let end = i;
            while (bytes[end - 1] === SP || bytes[end - 1] === HTAB) end--;
            this.valueEnd = end;
            state = FIELD_LF;
          } else if ((classOf[c] & IN_VALUE) === 0) throw malformed('header value');
          break;
        }
        case FIELD_LF:
          if (c !== LF) throw malformed('line ending');
          this.fields.push(this.nameStart, this.nameEnd, this.valueStart, this.valueEnd);
          state = FIELD_START;
          break;
        case HEAD_END_LF:
          if (c !== LF) throw malformed('line ending');
          this.state = DONE;
          this.scanned += i + 1 - from;
          return i + 1;
      }
    }
    this.state = state;
    this.scanned += i - from;
    if (i < to) {
      throw new HandshakeError(431, `request head over ${this.maxBytes} bytes`);
    }
    return -1;
  }

  private head(end: number): RequestHead {
    const bytes = this.gathered.bytes;
    const text = bytes.toString('latin1', 0, end);
    const fields = this.fields;
    const headers = new HeaderMap();
    for (let f = 0; f < fields.length; f += 4) {
      const from = fields[f];
      const to = fields[f + 1];
      const name = knownName(bytes, from, to) ?? text.slice(from, to).toLowerCase();
      headers.addLowerCase(name, text.slice(fields[f + 2], fields[f + 3]));
    }
    const { methodStart, methodEnd, targetStart, targetEnd } = this;
    return new ReadRequestHead(
      isGet(bytes, methodStart, methodEnd) ? 'GET' : text.slice(methodStart, methodEnd),
      // A long target is decoded on its own: V8 makes a slice of 13 characters or more a view
      // that keeps the whole head alive for as long as the target is kept (a socket keeps it as
      // its url). A shorter slice is a copy, and costs no call into Node.
      targetEnd - targetStart < SHORT_STRING
        ? text.slice(targetStart, targetEnd)
        : bytes.toString('latin1', targetStart, targetEnd),
      // The grammar let only HTTP/1.0 and HTTP/1.1 through.
      bytes[this.versionAt + 7] === 0x31 ? '1.1' : '1.0',
      headers,
      text,
      fields,
      bytes,
      end,
    );
  }
}

/** A head as the reader returns it: `rawHeaders` is made from the text when first asked for. */
class ReadRequestHead implements RequestHead {
  private raw: string[] | null = null;
  constructor(
    readonly method: string,
    readonly target: string,
    readonly httpVersion: string,
    readonly headers: HeaderMap,
    private readonly text: string,
    private readonly fields: readonly number[],
    readonly received: Buffer,
    readonly headLength: number,
  ) {}

  get fieldCount(): number {
    return this.fields.length / 4;
  }

  get rawHeaders(): string[] {
    if (this.raw !== null) return this.raw;
    const { fields, text } = this;
    const raw = new Array<string>(fields.length / 2);
    for (let f = 0, r = 0; f < fields.length; f += 4, r += 2) {
      raw[r] = text.slice(fields[f], fields[f + 1]);
      raw[r + 1] = text.slice(fields[f + 2], fields[f + 3]);
    }
    this.raw = raw;
    return raw;
  }
}

/**
 * Names an upgrade request usually has, in lower case, by length: a name read from the head
 * that matches one is used as this string, with no copy or case conversion per request.
 */
const KNOWN_NAMES: string[][] = [];
for (const name of [
  'host',
  'upgrade',
  'connection',
  'origin',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'user-agent',
  'pragma',
  'cache-control',
  'accept-encoding',
  'accept-language',
  'cookie',
  'authorization',
  'x-forwarded-for',
  'forwarded',
  'content-length',
  'transfer-encoding',
]) {
  (KNOWN_NAMES[name.length] ??= []).push(name);
}

/**
 * The known name that bytes [from, to) spell in any case, or undefined. The bytes are tchar
 * (the reader checked), and for tchar `c | 0x20` equals a lower-case letter only when `c` is
 * that letter in either case, and equals `-` only for `-`.
 */
function knownName(bytes: Buffer, from: number, to: number): string | undefined {
  const candidates = KNOWN_NAMES[to - from];
  if (candidates === undefined) return undefined;
  for (const name of candidates) {
    let i = 0;
    while (i < name.length && (bytes[from + i] | 0x20) === name.charCodeAt(i)) i++;
    if (i === name.length) return name;
  }
  return undefined;
}

/** Below this length V8 copies a substring rather than keeping a view of its parent. */
const SHORT_STRING = 13;

function isGet(bytes: Buffer, from: number, to: number): boolean {
  return to - from === 3 && bytes[from] === 0x47 && bytes[from + 1] === 0x45 && bytes[from + 2] === 0x54;
}

function malformed(what: string): HandshakeError {
  return new HandshakeError(400, `malformed ${what}`);
}

/**
 * Whether a request asks to switch protocols, by the rule Node's HTTP parser applies
 * (llhttp): a `Connection` field with the `upgrade` token and an `Upgrade` field. CONNECT
 * is not one: it is left to the HTTP server, as it is with Node's.
 */
export function asksForUpgrade(head: Pick<RequestHead, 'method' | 'headers'>): boolean {
  if (head.method === 'CONNECT') return false;
  const headers = head.headers;
  if (headers.all('upgrade').length === 0) return false;
  for (const value of headers.all('connection')) if (listHasToken(value, 'upgrade')) return true;
  return false;
}

/**
 * Why an upgrade request cannot be taken as it is: a body (RFC 6455 defines none, and the
 * bytes after the head are frames), which Node's parser would read as HTTP first. Takes
 * the fields as `rawHeaders` or a HeaderMap; returns a HandshakeError (400) or null.
 */
export function upgradeBodyRefusal(raw: readonly string[] | HeaderMap): HandshakeError | null {
  const headers = raw instanceof HeaderMap ? raw : HeaderMap.fromRaw(raw);
  if (headers.all('transfer-encoding').length > 0) {
    return new HandshakeError(400, 'an upgrade request cannot have a body (Transfer-Encoding)');
  }
  for (const length of headers.all('content-length')) {
    if (length !== '0')
      return new HandshakeError(400, 'an upgrade request cannot have a body (Content-Length)');
  }
  return null;
}
