/**
 * The registry client's push half against a fake registry: a blob of at most the chunk
 * size goes in one PUT, a larger one in PATCHes with contiguous Content-Ranges and a closing
 * PUT; a mount answers 201 or starts an upload (202); refusals are one line with the
 * registry's own words; and node's client (for fetch's bad ports) sends bodies and methods
 * as fetch does.
 */
import assert from "node:assert/strict";
import { nodeRequest } from "../../src/image/http.ts";
import { RegistryClient, RegistryError } from "../../src/image/registry.ts";

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return `sha256:${[...d].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** A fake registry of uploads: what it was asked, and the blobs it assembled. */
function fakeRegistry() {
  const log: string[] = [];
  const blobs = new Map<string, Uint8Array<ArrayBuffer>>();
  const uploads = new Map<string, Uint8Array<ArrayBuffer>>();
  let next = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    const upload = /\/blobs\/uploads\/(\w+)$/.exec(url.pathname)?.[1];
    log.push(
      `${req.method} ${upload ? "upload" : url.pathname.split("/").pop() || "uploads"}` +
        (req.headers.get("content-range") ? ` ${req.headers.get("content-range")}` : "") +
        ` ${body.length}`,
    );
    if (req.method === "HEAD") {
      return new Response(null, { status: blobs.has(url.pathname.split("/").pop()!) ? 200 : 404 });
    }
    if (req.method === "POST") {
      const from = url.searchParams.get("from");
      if (from === "t/has") return new Response(null, { status: 201 });
      const id = `u${next++}`;
      uploads.set(id, new Uint8Array(0));
      // Relative, as distribution's may be.
      return new Response(null, {
        status: 202,
        headers: { location: `/v2/t/x/blobs/uploads/${id}` },
      });
    }
    if (req.method === "PATCH" && upload) {
      const have = uploads.get(upload)!;
      const [start, end] = req.headers.get("content-range")!.split("-").map(Number);
      if (start !== have.length || end !== start + body.length - 1) {
        return new Response("bad range", { status: 416 });
      }
      const joined = new Uint8Array(have.length + body.length);
      joined.set(have);
      joined.set(body, have.length);
      uploads.set(upload, joined);
      return new Response(null, { status: 202, headers: { location: url.pathname } });
    }
    if (req.method === "PUT" && upload) {
      const have = uploads.get(upload)!;
      const joined = new Uint8Array(have.length + body.length);
      joined.set(have);
      joined.set(body, have.length);
      const digest = url.searchParams.get("digest")!;
      if ((await sha256(joined)) !== digest) {
        return Response.json({ errors: [{ code: "DIGEST_INVALID", message: "digest mismatch" }] }, {
          status: 400,
        });
      }
      blobs.set(digest, joined);
      return new Response(null, { status: 201 });
    }
    return new Response("no", { status: 405 });
  });
  const client = new RegistryClient({
    registry: `127.0.0.1:${server.addr.port}`,
    repository: "t/x",
  }, { push: true });
  return { log, blobs, server, client };
}

Deno.test("uploadBlob: one PUT up to the chunk size, PATCHes and a PUT above it", async () => {
  const { log, blobs, server, client } = fakeRegistry();
  try {
    for (const size of [0, 3, 4, 5, 9]) {
      const bytes = new Uint8Array(size).map((_, i) => i * 7 + size);
      const digest = await sha256(bytes);
      log.length = 0;
      let last = -1;
      await client.uploadBlob(digest, bytes, 4, undefined, (n) => last = n);
      assert.deepEqual(blobs.get(digest), bytes, `size ${size}`);
      assert.equal(last, size);
      const expected = size <= 4
        ? ["POST uploads 0", `PUT upload ${size}`]
        : size === 5
        ? ["POST uploads 0", "PATCH upload 0-3 4", "PATCH upload 4-4 1", "PUT upload 0"]
        : [
          "POST uploads 0",
          "PATCH upload 0-3 4",
          "PATCH upload 4-7 4",
          "PATCH upload 8-8 1",
          "PUT upload 0",
        ];
      assert.deepEqual(log, expected, `size ${size}`);
      assert.equal(await client.hasBlob(digest), true);
    }
    assert.equal(await client.hasBlob(`sha256:${"0".repeat(64)}`), false);
  } finally {
    await server.shutdown();
  }
});

Deno.test("mountBlob: 201 is mounted, 202 an upload to go on with; refusals are one line", async () => {
  const { blobs, server, client } = fakeRegistry();
  try {
    const bytes = new TextEncoder().encode("layer");
    const digest = await sha256(bytes);
    assert.equal(await client.mountBlob(digest, "t/has"), true);
    const started = await client.mountBlob(digest, "t/other");
    assert.ok(started instanceof URL);
    await client.uploadBlob(digest, bytes, 4, started as URL);
    assert.deepEqual(blobs.get(digest), bytes);
    await assert.rejects(
      () => client.uploadBlob(`sha256:${"1".repeat(64)}`, bytes, 8),
      (e: Error) =>
        e instanceof RegistryError && !e.message.includes("\n") &&
        e.message.endsWith("400 digest_invalid: digest mismatch"),
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("nodeRequest sends methods and bodies as fetch does", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    return new Response(req.method === "HEAD" ? null : `${req.method} ${body}`, {
      status: req.method === "PUT" ? 201 : 200,
      headers: { "x-length": req.headers.get("content-length") ?? "" },
    });
  });
  try {
    const url = new URL(`http://127.0.0.1:${server.addr.port}/v2/t/x/blobs/uploads/`);
    const put = await nodeRequest(url, {
      method: "PUT",
      headers: {},
      body: new TextEncoder().encode("abc"),
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("x-length"), "3");
    assert.equal(await put.text(), "PUT abc");
    const head = await nodeRequest(url, { method: "HEAD", headers: {} });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    const post = await nodeRequest(url, { method: "POST", headers: {} });
    assert.equal(await post.text(), "POST ");
  } finally {
    await server.shutdown();
  }
});
