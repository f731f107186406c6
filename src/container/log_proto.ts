/**
 * Docker's `local` log format: each entry is a big-endian uint32 length, a protobuf
 * `LogEntry`, and the same length again (moby daemon/logger/local: `marshal`, `decoder`;
 * the trailing length lets a reader walk back from the end for `--tail`). The message is
 * moby's daemon/logger/internal/logdriver/entry.proto:
 *
 *     message LogEntry { string source = 1; int64 time_nano = 2; bytes line = 3;
 *                        bool partial = 4; PartialLogEntryMetadata partial_log_metadata = 5;
 *                        repeated LogAttr attrs = 6; }
 *     message LogAttr { string key = 1; string value = 2; }
 *
 * Only these fields are encoded (5 is skipped when read). Proto3 leaves out a field that
 * has its default value (an empty line, a false partial). The line has no newline: the
 * reader adds one unless the entry is partial.
 *
 * @module
 */

/** A decoded `LogEntry`. */
export interface ProtoLogEntry {
  source: string;
  timeNano: bigint;
  line: Uint8Array;
  partial: boolean;
  attrs: [string, string][];
}

/** The length prefix and suffix of a frame (moby's `encodeBinaryLen`). */
export const FRAME_LEN_BYTES = 4;
/** Docker's reader refuses larger messages (moby local/read.go `maxMsgLen`). */
export const MAX_MSG_LEN = 1e6;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Appends bytes to a growable buffer. */
class Out {
  buf = new Uint8Array(256);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** An unsigned varint: 7 bits a byte, low first, the high bit set on all but the last. */
  varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }
  /** A length-delimited field (wire type 2). */
  field(num: number, b: Uint8Array): void {
    this.varint((num << 3) | 2);
    this.varint(b.length);
    this.bytes(b);
  }
}

/** The protobuf bytes of one `LogEntry`. */
export function encodeLogEntry(e: ProtoLogEntry): Uint8Array {
  const o = new Out();
  if (e.source) o.field(1, utf8.encode(e.source));
  if (e.timeNano !== 0n) {
    o.varint((2 << 3) | 0);
    o.varint(e.timeNano);
  }
  if (e.line.length > 0) o.field(3, e.line);
  if (e.partial) {
    o.varint((4 << 3) | 0);
    o.varint(1);
  }
  for (const [k, v] of e.attrs) {
    const a = new Out();
    if (k) a.field(1, utf8.encode(k));
    if (v) a.field(2, utf8.encode(v));
    o.field(6, a.buf.subarray(0, a.len));
  }
  return o.buf.slice(0, o.len);
}

/** One entry framed as Docker's local driver writes it: length, message, length. */
export function frameLogEntry(e: ProtoLogEntry): Uint8Array {
  const msg = encodeLogEntry(e);
  const out = new Uint8Array(msg.length + 2 * FRAME_LEN_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, msg.length);
  out.set(msg, FRAME_LEN_BYTES);
  dv.setUint32(FRAME_LEN_BYTES + msg.length, msg.length);
  return out;
}

/** Reads protobuf fields from `b`. */
class In {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  varint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length || shift > 63n) throw new Error("bad varint");
      const byte = this.b[this.pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
      shift += 7n;
    }
  }
  tag(): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw new Error("bad tag");
    return Number(v);
  }
  bytes(): Uint8Array {
    const v = this.varint();
    if (v > BigInt(this.b.length)) throw new Error("truncated field");
    const n = Number(v);
    if (this.pos + n > this.b.length) throw new Error("truncated field");
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`bad wire type ${wire}`);
    if (this.pos > this.b.length) throw new Error("truncated field");
  }
}

/** Decodes one `LogEntry`; throws on damaged bytes. */
export function decodeLogEntry(b: Uint8Array): ProtoLogEntry {
  const r = new In(b);
  const e: ProtoLogEntry = {
    source: "",
    timeNano: 0n,
    line: new Uint8Array(0),
    partial: false,
    attrs: [],
  };
  while (r.pos < b.length) {
    const tag = r.tag();
    const num = tag >>> 3;
    const wire = tag & 7;
    if (num === 1 && wire === 2) e.source = fromUtf8.decode(r.bytes());
    else if (num === 2 && wire === 0) e.timeNano = BigInt.asIntN(64, r.varint());
    else if (num === 3 && wire === 2) e.line = r.bytes().slice();
    else if (num === 4 && wire === 0) e.partial = r.varint() !== 0n;
    else if (num === 6 && wire === 2) {
      const a = new In(r.bytes());
      let k = "";
      let v = "";
      while (a.pos < a.b.length) {
        const t = a.tag();
        if (t === ((1 << 3) | 2)) k = fromUtf8.decode(a.bytes());
        else if (t === ((2 << 3) | 2)) v = fromUtf8.decode(a.bytes());
        else a.skip(t & 7);
      }
      e.attrs.push([k, v]);
    } else r.skip(wire);
  }
  return e;
}

/**
 * The complete frames at the start of `b`: their entries and how many bytes they take. A
 * torn last frame (being written) is left; a frame whose two lengths differ, or too long a
 * message, is damage: reading stops there (`damaged`).
 */
export function decodeFrames(b: Uint8Array): {
  entries: ProtoLogEntry[];
  used: number;
  damaged: boolean;
} {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entries: ProtoLogEntry[] = [];
  let off = 0;
  while (off + FRAME_LEN_BYTES <= b.length) {
    const len = dv.getUint32(off);
    if (len > MAX_MSG_LEN) return { entries, used: off, damaged: true };
    const end = off + 2 * FRAME_LEN_BYTES + len;
    if (end > b.length) break;
    if (dv.getUint32(end - FRAME_LEN_BYTES) !== len) return { entries, used: off, damaged: true };
    try {
      entries.push(decodeLogEntry(b.subarray(off + FRAME_LEN_BYTES, end - FRAME_LEN_BYTES)));
    } catch {
      return { entries, used: off, damaged: true };
    }
    off = end;
  }
  return { entries, used: off, damaged: false };
}
