/** Layer decompression: zlib's inflate gives what was compressed, and refuses what is bad. */
import assert from "node:assert/strict";
import { gunzipped } from "../../src/image/gunzip.ts";
import { gunzipper } from "../../ffi/zlib.ts";
import { pieces } from "./pieces.ts";

async function gzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `bytes` in `chunk`-byte pieces from one reused buffer, as an async source. */
async function* asyncPieces(bytes: Uint8Array, chunk: number): AsyncGenerator<Uint8Array> {
  yield* pieces(bytes, chunk);
}

async function inflated(bytes: Uint8Array, chunk: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const piece of gunzipped(asyncPieces(bytes, chunk))) out.push(piece.slice());
  const all = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of out) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}

const ignore = gunzipper() === null;

Deno.test(
  { name: "gunzipped inflates what was compressed, whatever the chunking", ignore },
  async () => {
    // Compressible text and incompressible bytes (stored blocks), over 1 MiB of output each.
    const text = new TextEncoder().encode("layer ".repeat(400_000));
    const random = new Uint8Array(1_500_000);
    for (let off = 0; off < random.length; off += 65536) {
      crypto.getRandomValues(random.subarray(off, off + 65536));
    }
    for (const data of [text, random, new Uint8Array()]) {
      const gz = await gzip(data);
      for (const chunk of [1000, 65536, 1 << 20, gz.length + 1]) {
        assert.deepEqual(await inflated(gz, chunk), data, `${data.length} bytes in ${chunk}`);
      }
    }
  },
);

Deno.test({ name: "gunzipped reads concatenated members as one stream", ignore }, async () => {
  const a = await gzip(new TextEncoder().encode("first "));
  const b = await gzip(new TextEncoder().encode("second"));
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  for (const chunk of [3, a.length, 4096]) {
    assert.equal(new TextDecoder().decode(await inflated(both, chunk)), "first second");
  }
});

Deno.test({ name: "gunzipped refuses corrupt, truncated and trailing bytes", ignore }, async () => {
  const data = new TextEncoder().encode("some layer contents ".repeat(1000));
  const gz = await gzip(data);
  const flipped = gz.slice();
  flipped[gz.length - 6] ^= 1; // the CRC-32 in the trailer
  await assert.rejects(() => inflated(flipped, 512), /gzip: incorrect data check/);
  const garbled = gz.slice();
  garbled[20] ^= 0xff;
  await assert.rejects(() => inflated(garbled, 512), /gzip: /);
  await assert.rejects(() => inflated(gz.slice(0, gz.length - 4), 512), /unexpected end/);
  await assert.rejects(() => inflated(new Uint8Array(), 512), /unexpected end/);
  const trailing = new Uint8Array(gz.length + 10);
  trailing.set(gz);
  await assert.rejects(() => inflated(trailing, 512), /gzip: /);
  await assert.rejects(() => inflated(new TextEncoder().encode("not gzip at all"), 512), /gzip: /);
});
