import { HandshakeError } from '../errors.js';
import { HeadBytes } from './head-bytes.js';
import { HeaderMap } from './headers.js';

/** Limits on an HTTP head read by wsx itself. */
export interface HeadLimits {
  /** Most bytes in the status line and header fields together. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Most header fields. Default 100. */
  readonly maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({ maxHeaderBytes: 16 * 1024, maxHeaders: 100 });

/** A parsed HTTP/1.1 response head, and the bytes that followed it in the same reads. */
export interface ResponseHead {
  readonly httpVersion: string;
  readonly status: number;
  readonly reason: string;
  readonly headers: HeaderMap;
  readonly rest: Buffer;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Collects bytes until the end of an HTTP response head, then parses it. Linear in the
 * input: the search for the blank line resumes where the previous chunk left off.
 */
export class ResponseHeadReader {
  private readonly limits: HeadLimits;
  private readonly gathered = new HeadBytes();

  constructor(limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
    this.limits = limits;
  }

  /** Returns the head once complete, or null while more bytes are needed. Throws HandshakeError. */
  push(chunk: Buffer): ResponseHead | null {
    const gathered = this.gathered;
    const searchFrom = Math.max(0, gathered.size - 3);
    gathered.append(chunk);
    const all = gathered.bytes;
    const end = all.indexOf(CRLFCRLF, searchFrom);
    // The limit counts the head before its blank line; up to 3 bytes of that line may be here already.
    if ((end === -1 ? all.length - 3 : end) > this.limits.maxHeaderBytes) {
      throw new HandshakeError(0, `response head over ${this.limits.maxHeaderBytes} bytes`);
    }
    if (end === -1) {
      gathered.keep();
      return null;
    }
    return parseResponseHead(all.toString('latin1', 0, end), all.subarray(end + 4), this.limits);
  }
}

function parseResponseHead(text: string, rest: Buffer, limits: HeadLimits): ResponseHead {
  const lines = text.split('\r\n');
  const statusLine = lines[0];
  // status-line = HTTP-version SP status-code SP reason-phrase
  const firstSpace = statusLine.indexOf(' ');
  const version = statusLine.slice(0, firstSpace);
  const code = statusLine.slice(firstSpace + 1, firstSpace + 4);
  const afterCode = statusLine.charCodeAt(firstSpace + 4);
  const codeEnds = Number.isNaN(afterCode) || afterCode === 0x20;
  if (!version.startsWith('HTTP/') || firstSpace < 0 || !/^[1-5]\d\d$/.test(code) || !codeEnds) {
    throw new HandshakeError(0, `malformed status line ${JSON.stringify(statusLine.slice(0, 80))}`);
  }
  if (lines.length - 1 > limits.maxHeaders) {
    throw new HandshakeError(0, `response has more than ${limits.maxHeaders} header fields`);
  }
  const headers = new HeaderMap();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // RFC 7230 §3.2.4: no white space before the colon, and obsolete line folding is refused.
    if (
      colon <= 0 ||
      line.charCodeAt(0) === 0x20 ||
      line.charCodeAt(0) === 0x09 ||
      /[ \t]/.test(line[colon - 1])
    ) {
      throw new HandshakeError(0, `malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    }
    headers.add(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return {
    httpVersion: version.slice(5),
    status: Number(code),
    reason: statusLine.slice(firstSpace + 5),
    headers,
    rest,
  };
}
