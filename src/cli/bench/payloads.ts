import { randomBytes } from 'node:crypto';

/**
 * The messages of echo mode and their check. Each message starts with the connection's id and
 * its own sequence number (8 bytes binary, 16 hex digits as text), so an echo sent back on the
 * wrong connection or out of order is caught, followed by one of four bodies picked by the
 * sequence number, so a stale or duplicated one is caught too; the echo is compared with what
 * was sent byte for byte. Text bodies mix 1- to 4-byte UTF-8 characters. A message shorter
 * than the header carries what fits of it.
 */

const VARIANTS = 4;
const TEXT_CHARACTERS = ['a', 'é', '€', '😀', 'z', 'ж', '中', '𝄞'];

export class EchoPayloads {
  private readonly headerLength: number;
  /** One buffer per body variant; the header is written into it just before it is sent. */
  private readonly messages: Buffer[] = [];
  /** The header a message should have, written here to compare with. */
  private readonly header: Buffer;

  constructor(
    private readonly size: number,
    private readonly text: boolean,
  ) {
    const fullHeader = text ? 16 : 8;
    this.header = Buffer.alloc(fullHeader);
    this.headerLength = Math.min(size, fullHeader);
    for (let variant = 0; variant < VARIANTS; variant++) {
      const bodyLength = size - this.headerLength;
      const body = text ? textBody(bodyLength, variant) : randomBytes(bodyLength);
      const message = Buffer.alloc(size);
      body.copy(message, this.headerLength);
      this.messages.push(message);
    }
  }

  /**
   * The message with sequence number `seq` on connection `id`. The buffer is reused for a
   * later message: send it before asking for another (sending copies it while masking).
   */
  message(id: number, seq: number): Buffer {
    const message = this.messages[seq % VARIANTS];
    this.writeHeader(id, seq);
    this.header.copy(message, 0, 0, this.headerLength);
    return message;
  }

  /** Why `data` is not the echo of message `seq` on connection `id`; null when it is. */
  check(data: Buffer, isBinary: boolean, id: number, seq: number): string | null {
    if (isBinary === this.text) return `came back as ${isBinary ? 'binary' : 'text'}`;
    if (data.length !== this.size) return `has ${data.length} bytes, ${this.size} were sent`;
    this.writeHeader(id, seq);
    const expected = this.messages[seq % VARIANTS];
    const headerLength = this.headerLength;
    if (
      data.compare(this.header, 0, headerLength, 0, headerLength) === 0 &&
      data.compare(expected, headerLength, this.size, headerLength, this.size) === 0
    ) {
      return null;
    }
    let at = 0;
    while (at < headerLength ? data[at] === this.header[at] : data[at] === expected[at]) at++;
    return `differs from what was sent at byte ${at}`;
  }

  private writeHeader(id: number, seq: number): void {
    if (this.text) {
      this.header.write(hex8(id), 0, 'latin1');
      this.header.write(hex8(seq), 8, 'latin1');
    } else {
      this.header.writeUInt32BE(id >>> 0, 0);
      this.header.writeUInt32BE(seq >>> 0, 4);
    }
  }
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** Exactly `length` bytes of UTF-8: characters of every width, then ASCII to fill the end. */
function textBody(length: number, variant: number): Buffer {
  let text = '';
  let bytes = 0;
  for (let i = variant; ; i++) {
    const character = TEXT_CHARACTERS[i % TEXT_CHARACTERS.length];
    const width = Buffer.byteLength(character);
    if (bytes + width > length) break;
    text += character;
    bytes += width;
  }
  return Buffer.from(text + 'a'.repeat(length - bytes), 'utf8');
}
