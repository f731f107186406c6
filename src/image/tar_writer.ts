/**
 * Writing ustar archives: headers and padded bodies, for `export`, `save` and for tests
 * that need archives no well-behaved tool would make. Names up to 100 bytes, or 255 with a
 * prefix split; longer ones get a pax `path` record.
 *
 * @module
 */

import type { TarEntryType } from "./tar.ts";

/** One member to write. */
export interface TarWriteEntry {
  name: string;
  type?: TarEntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  body?: Uint8Array;
}

const FLAGS: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  directory: "5",
  fifo: "6",
};

const encoder = new TextEncoder();

function put(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new Error(`tar field too long: "${text}"`);
  block.set(bytes, offset);
}

function octal(block: Uint8Array, offset: number, length: number, n: number): void {
  put(block, offset, length, n.toString(8).padStart(length - 1, "0") + "\0");
}

function header(name: string, flag: string, e: TarWriteEntry, size: number): Uint8Array {
  const block = new Uint8Array(512);
  let prefix = "";
  if (encoder.encode(name).length > 100) {
    const cut = name.lastIndexOf("/", 155);
    if (cut > 0 && encoder.encode(name.slice(cut + 1)).length <= 100) {
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
  }
  put(block, 0, 100, name);
  octal(block, 100, 8, e.mode ?? (flag === "5" ? 0o755 : 0o644));
  octal(block, 108, 8, e.uid ?? 0);
  octal(block, 116, 8, e.gid ?? 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, e.mtime ?? 0);
  block[156] = flag.charCodeAt(0);
  put(block, 157, 100, e.linkname ?? "");
  put(block, 257, 6, "ustar\0");
  put(block, 263, 2, "00");
  octal(block, 329, 8, e.devmajor ?? 0);
  octal(block, 337, 8, e.devminor ?? 0);
  put(block, 345, 155, prefix);
  block.fill(32, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  put(block, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

function padded(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(body.length / 512) * 512);
  out.set(body);
  return out;
}

/** One pax record: its length counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = rest.length + 1;
  while (String(len).length + encoder.encode(rest).length !== len) len++;
  return `${len}${rest}`;
}

/** The largest size the 11 octal digits of a ustar header hold (8 GiB - 1). */
const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * The header blocks of one member whose body is `size` bytes (a pax header first for a
 * name longer than 255 bytes or a size above 8 GiB), for writers that stream the body
 * after it themselves, then `tarPadding(size)`.
 */
export function entryHeader(e: TarWriteEntry, size: number): Uint8Array {
  const type = e.type ?? "file";
  let name = e.name;
  const records: string[] = [];
  if (encoder.encode(name).length > 255) {
    records.push(paxRecord("path", name));
    name = name.slice(0, 99);
  }
  if (size > MAX_OCTAL_SIZE) records.push(paxRecord("size", String(size)));
  const main = header(name, FLAGS[type], e, Math.min(size, MAX_OCTAL_SIZE));
  if (records.length === 0) return main;
  const pax = encoder.encode(records.join(""));
  return concat([header("././@PaxHeader", "x", { name: "" }, pax.length), padded(pax), main]);
}

/** The zeros that pad a body of `size` bytes to the next 512-byte block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((512 - (size % 512)) % 512);
}

/** The end-of-archive marker: two zero blocks. */
export const TAR_END: Uint8Array = new Uint8Array(1024);

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Encodes entries (and the end-of-archive marker) as one tar archive. */
export function writeTar(entries: TarWriteEntry[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? "file";
    const body = type === "file" ? e.body ?? new Uint8Array() : new Uint8Array();
    parts.push(entryHeader(e, body.length), padded(body));
  }
  parts.push(TAR_END);
  return concat(parts);
}
