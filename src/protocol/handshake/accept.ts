import { hash, randomBytes } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the client's key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return hash('sha1', key + WEBSOCKET_GUID, 'base64');
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64-encoded (RFC 6455 §4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** Whether a Sec-WebSocket-Key is base64 of exactly 16 bytes (24 characters, "==" padding). */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const base64 =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (!base64) return false;
  }
  // The last data character carries 2 bits of padding that must be zero for a 16-byte value.
  return 'AQgw'.includes(key[21]);
}
