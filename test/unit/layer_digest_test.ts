/** Layer digests: the same SHA-256 whatever the chunking, batched or hashed in place. */
import assert from "node:assert/strict";
import { layerDigest } from "../../src/image/digest.ts";
import { sha256Context } from "../../ffi/libcrypto.ts";

async function expected(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `sha256:${[...d].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

Deno.test("layerDigest matches SHA-256 for small, large and mixed chunks", async () => {
  const data = new Uint8Array(3 * 1024 * 1024 + 12345).map((_, i) => (i * 7919) % 256);
  const want = await expected(data);
  const plans = [
    [16384],
    [300 * 1024],
    [1 << 20],
    [1, 1 << 20, 70_000, 512 * 1024, 3], // batches interleaved with large chunks
  ];
  for (const plan of plans) {
    const digest = await layerDigest();
    // One reused buffer: a chunk may be overwritten once its update has settled.
    const buffer = new Uint8Array(Math.max(...plan));
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = Math.min(plan[i % plan.length], data.length - off);
      buffer.set(data.subarray(off, off + n));
      await digest.update(buffer.subarray(0, n));
      buffer.fill(0xee);
      off += n;
    }
    assert.equal(await digest.digest(), want, `chunks of ${plan}`);
  }
  const empty = await layerDigest();
  assert.equal(await empty.digest(), await expected(new Uint8Array()));
});

Deno.test({
  name: "libcrypto's Sha256 refuses overlapping updates and frees itself after one settles",
  ignore: sha256Context() === null,
}, async () => {
  const ctx = sha256Context()!;
  const data = new Uint8Array(1 << 20);
  const running = ctx.updateAsync(data);
  await assert.rejects(() => ctx.updateAsync(data), /an update while another runs/);
  ctx.dispose(); // deferred until the update ends
  await running;
  assert.throws(() => ctx.digest(), /used after digest/);
});
