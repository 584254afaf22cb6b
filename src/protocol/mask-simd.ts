/**
 * A WebAssembly SIMD kernel for masking (RFC 6455 §5.3): XORs 16 bytes per instruction,
 * against 4 per loop step for the best JavaScript can do with an Int32Array. Wasm code
 * only sees its own memory, so bytes go through a 64 KiB scratch block: copied in, XORed,
 * copied out. Both copies are native memcpys of cache-resident data, so even with them a
 * copy-and-unmask runs several times faster than the JavaScript word loop.
 *
 * A second 64 KiB of the same memory is lent to whoever reads the network (`readMemory`):
 * frames read there are unmasked where they lie, with no copy in or out.
 *
 * The module is built on first use. Where WebAssembly or its SIMD proposal is unavailable
 * (`--jitless`, an exotic runtime), `simdKernel()` returns null and callers stay in JavaScript.
 */

/** Bytes XORed per call: the scratch block is one 64 KiB wasm page. */
export const SIMD_BLOCK = 64 * 1024;

export interface SimdKernel {
  /** `target[offset, ...)` = `source[start, end)` XOR the repeated little-endian `word`; end - start ≤ SIMD_BLOCK. */
  xorInto(
    target: Uint8Array,
    offset: number,
    source: Uint8Array,
    start: number,
    end: number,
    word: number,
  ): void;
  /**
   * XORs `[start, end)` of the kernel's memory in place with `word` repeated; `end - start`
   * is a multiple of 64. Positions are offsets in the memory's ArrayBuffer, which is what
   * `byteOffset` gives for a view of `readMemory`.
   */
  xorMemory(start: number, end: number, word: number): void;
  /** 64 KiB of the kernel's memory for a reader to read into (see `xorMemory`); never moves. */
  readonly readMemory: Buffer;
  /** The memory `readMemory` is a view of. */
  readonly memory: ArrayBuffer;
}

// The opcodes used below (WebAssembly core spec §5.4, SIMD §5.4.8: prefix 0xfd).
const I32 = 0x7f;
const V128 = 0x7b;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 0x11;
const V128_XOR = 0x51;
const EMPTY_TYPE = 0x40;

/** `v128.store offset=at (p, v128.xor (v128.load offset=at (p), key))`: p is local 4, key local 3. */
function xorLane(at: number): number[] {
  // biome-ignore format: one instruction per line
  return [
    LOCAL_GET, 4,
    LOCAL_GET, 4, SIMD, V128_LOAD, 4, at,
    LOCAL_GET, 3, SIMD, V128_XOR,
    SIMD, V128_STORE, 4, at,
  ];
}

/**
 * `(func (export "xor") (param $start i32) (param $end i32) (param $word i32) (local $key v128)
 * (local $p i32)`: XORs memory [start, end) with `word` splatted, 64 bytes per iteration
 * (end - start is a multiple of 64).
 */
function xorFunctionBody(): number[] {
  // biome-ignore format: laid out as the instructions nest
  const code = [
    2, 1, V128, 1, I32, // locals: $key, $p
    LOCAL_GET, 2, SIMD, I32X4_SPLAT, LOCAL_SET, 3,
    LOCAL_GET, 0, LOCAL_SET, 4,
    BLOCK, EMPTY_TYPE,
    LOOP, EMPTY_TYPE,
    LOCAL_GET, 4, LOCAL_GET, 1, I32_GE_U, BR_IF, 1,
    ...xorLane(0), ...xorLane(16), ...xorLane(32), ...xorLane(48),
    LOCAL_GET, 4, I32_CONST, 0xc0, 0x00, I32_ADD, LOCAL_SET, 4, // $p += 64 (signed LEB128)
    BR, 0,
    END, END, END,
  ];
  return [...unsignedLeb128(code.length), ...code];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb128(content.length), ...content];
}

function unsignedLeb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    bytes.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return bytes;
}

function moduleBytes(): Uint8Array {
  const name = (text: string) => [text.length, ...Buffer.from(text, 'latin1')];
  const body = xorFunctionBody();
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 3, I32, I32, I32, 0]), // type 0: (i32, i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, 2]), // one memory of 2 pages (never grown), no maximum
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('xor'), 0x00, 0]),
    ...section(10, [1, ...body]),
  ]);
}

/** The part of the WebAssembly API used here (the project's `lib` settings do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
};

interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  readonly xor: (start: number, end: number, word: number) => void;
}

class WasmKernel implements SimdKernel {
  private readonly scratch: Buffer;
  /** The memory (it never grows, so views of it stay valid), for views made without `Buffer#subarray`. */
  readonly memory: ArrayBuffer;
  readonly readMemory: Buffer;
  readonly xorMemory: (start: number, end: number, word: number) => void;

  constructor(exports: KernelExports) {
    this.memory = exports.memory.buffer;
    this.scratch = Buffer.from(this.memory, 0, SIMD_BLOCK);
    this.readMemory = Buffer.from(this.memory, SIMD_BLOCK, SIMD_BLOCK);
    this.xorMemory = exports.xor;
  }

  xorInto(
    target: Uint8Array,
    offset: number,
    source: Uint8Array,
    start: number,
    end: number,
    word: number,
  ): void {
    const length = end - start;
    // `Buffer#subarray` reads the source's `.buffer`, a call into V8's runtime: a whole
    // source is copied as it is, and the way out is a plain view of the wasm memory.
    this.scratch.set(start === 0 && end === source.length ? source : source.subarray(start, end));
    // Whole 64-byte rounds: the bytes past `length` are scratch, XORed and never copied out.
    this.xorMemory(0, (length + 63) & ~63, word);
    target.set(new Uint8Array(this.memory, 0, length), offset);
  }
}

let kernel: SimdKernel | null | undefined;

/** The SIMD kernel, or null where this runtime cannot run it. */
export function simdKernel(): SimdKernel | null {
  if (kernel === undefined) {
    try {
      const module = new WebAssembly.Module(moduleBytes());
      kernel = new WasmKernel(new WebAssembly.Instance(module).exports as KernelExports);
    } catch {
      kernel = null;
    }
  }
  return kernel;
}
