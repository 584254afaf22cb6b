/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  /** 0x0: a further frame of a fragmented message. */
  Continuation: 0x0,
  /** 0x1: the first frame of a text (UTF-8) message. */
  Text: 0x1,
  /** 0x2: the first frame of a binary message. */
  Binary: 0x2,
  /** 0x8: the close frame of the closing handshake. */
  Close: 0x8,
  /** 0x9: a ping, which the peer answers with a pong. */
  Ping: 0x9,
  /** 0xA: a pong, the answer to a ping (or an unsolicited heartbeat). */
  Pong: 0xa,
} as const;

/** One of the {@link Opcode} values. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** RFC 6455 §5.5: control frames have the most significant bit of the opcode set. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Opcodes 0x3-0x7 and 0xB-0xF are reserved for further frame types. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}
