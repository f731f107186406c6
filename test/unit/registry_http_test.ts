/**
 * The registry client's HTTP: the fetch standard's bad ports go through node's client,
 * which answers as fetch does (status, headers, body, redirects).
 */
import assert from "node:assert/strict";
import { FETCH_BLOCKED_PORTS, fetchBlocksPort, nodeGet } from "../../src/image/http.ts";

Deno.test("every port on the list is one Deno's fetch refuses, before connecting", async () => {
  for (const port of FETCH_BLOCKED_PORTS) {
    if (port === 0) continue; // not a port a URL can name
    await assert.rejects(
      () => fetch(`http://127.0.0.1:${port}/`),
      (e: Error) => e.message.includes(`Requests to port ${port} are blocked`),
      `port ${port}`,
    );
  }
});

Deno.test("fetchBlocksPort: the list's ports, never a default port", () => {
  assert.equal(fetchBlocksPort(new URL("http://127.0.0.1:6000/v2/")), true);
  assert.equal(fetchBlocksPort(new URL("http://127.0.0.1:6665/v2/")), true);
  assert.equal(fetchBlocksPort(new URL("http://127.0.0.1:10080/v2/")), true);
  assert.equal(fetchBlocksPort(new URL("http://127.0.0.1:5000/v2/")), false);
  assert.equal(fetchBlocksPort(new URL("https://registry-1.docker.io/v2/")), false);
  assert.equal(fetchBlocksPort(new URL("http://127.0.0.1:80/v2/")), false);
});

Deno.test("nodeGet answers as fetch: status, headers, streamed body, redirects", async () => {
  const seen: Array<{ path: string; authorization: string | null }> = [];
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push({ path: new URL(req.url).pathname, authorization: req.headers.get("authorization") });
    return new Response("from the other origin");
  });
  const main: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (req): Response => {
    const path = new URL(req.url).pathname;
    seen.push({ path, authorization: req.headers.get("authorization") });
    if (path === "/same") return Response.redirect(`http://127.0.0.1:${main.addr.port}/body`, 307);
    if (path === "/away") return Response.redirect(`http://127.0.0.1:${other.addr.port}/blob`, 302);
    if (path === "/missing") return new Response("nope", { status: 404 });
    return new Response("x".repeat(200_000), {
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json", "x-a": "1" },
    });
  });
  try {
    const base = `http://127.0.0.1:${main.addr.port}`;
    const auth = { authorization: "Bearer t" };
    const ok = await nodeGet(new URL(`${base}/same`), auth, 20);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "application/vnd.oci.image.manifest.v1+json");
    assert.equal((await ok.text()).length, 200_000);
    const missing = await nodeGet(new URL(`${base}/missing`), {}, 20);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "nope");
    const away = await nodeGet(new URL(`${base}/away`), auth, 20);
    assert.equal(await away.text(), "from the other origin");
    assert.deepEqual(seen, [
      { path: "/same", authorization: "Bearer t" },
      { path: "/body", authorization: "Bearer t" }, // same origin: kept
      { path: "/missing", authorization: null },
      { path: "/away", authorization: "Bearer t" },
      { path: "/blob", authorization: null }, // another origin: dropped, as fetch does
    ]);
    await assert.rejects(() => nodeGet(new URL(`${base}/same`), {}, 0), /too many redirects/);
  } finally {
    await main.shutdown();
    await other.shutdown();
  }
});

Deno.test("nodeGet: a refused connection rejects, as fetch does", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close(); // nothing listens there now
  await assert.rejects(() => nodeGet(new URL(`http://127.0.0.1:${port}/v2/`), {}, 20));
});
