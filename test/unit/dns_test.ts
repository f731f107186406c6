import assert from "node:assert/strict";
import { answer, messageId, parseQuery, withId } from "../../src/network/dns.ts";

/** A query as resolvers send it: ID 0x1234, RD, one question. */
function query(name: string, type = 1): Uint8Array<ArrayBuffer> {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return new Uint8Array([
    0x12,
    0x34,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    type,
    0,
    1,
  ]);
}

Deno.test("dns: a query's ID, name and type; responses and junk are not queries", () => {
  const q = parseQuery(query("Api.Backend"))!;
  assert.deepEqual([q.id, q.name, q.type], [0x1234, "api.backend", 1]);
  assert.equal(parseQuery(new Uint8Array(5)), null);
  const response = query("a");
  response[2] |= 0x80;
  assert.equal(parseQuery(response), null);
});

Deno.test("dns: an A answer carries each address; NXDOMAIN for unknown names", () => {
  const msg = query("api");
  const q = parseQuery(msg)!;
  const a = answer(msg, q, ["172.18.0.2", "172.18.0.3"]);
  assert.equal(messageId(a), 0x1234);
  assert.equal(a[2] & 0x80, 0x80, "a response");
  assert.equal(a[3] & 0x0f, 0, "NOERROR");
  assert.equal(a[7], 2, "two answers");
  assert.deepEqual([...a.subarray(a.length - 4)], [172, 18, 0, 3]);
  const nx = answer(msg, q, null);
  assert.equal(nx[3] & 0x0f, 3);
  assert.equal(nx[7], 0);
  // AAAA for a known name: no answers, no error (the client falls back to A).
  const aaaa = query("api", 28);
  const none = answer(aaaa, parseQuery(aaaa)!, ["172.18.0.2"]);
  assert.deepEqual([none[3] & 0x0f, none[7]], [0, 0]);
});

Deno.test("dns: relaying swaps the ID and nothing else", () => {
  const msg = query("example.org");
  const relayed = withId(msg, 0xbeef);
  assert.equal(messageId(relayed), 0xbeef);
  assert.deepEqual(relayed.subarray(2), msg.subarray(2));
});
