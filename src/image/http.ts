/**
 * HTTP for the registry client: Deno's `fetch`, except for the ports the fetch standard
 * calls "bad" (1, 6000, 6665-6669, 10080, ...), which `fetch` refuses to reach ("Requests
 * to port 6000 are blocked") and no `Deno.HttpClient` option unblocks. A registry may listen
 * on any port, so those requests go through `node:http`/`node:https`, loaded only then;
 * every other request keeps fetch's transport as it was.
 *
 * @module
 */

/**
 * The fetch standard's bad ports (https://fetch.spec.whatwg.org/#bad-port), the list Deno's
 * fetch blocks (a unit test checks each against the pinned Deno).
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  0,
  1,
  7,
  9,
  11,
  13,
  15,
  17,
  19,
  20,
  21,
  22,
  23,
  25,
  37,
  42,
  43,
  53,
  69,
  77,
  79,
  87,
  95,
  101,
  102,
  103,
  104,
  109,
  110,
  111,
  113,
  115,
  117,
  119,
  123,
  135,
  137,
  139,
  143,
  161,
  179,
  389,
  427,
  465,
  512,
  513,
  514,
  515,
  526,
  530,
  531,
  532,
  540,
  548,
  554,
  556,
  563,
  587,
  601,
  636,
  989,
  990,
  993,
  995,
  1719,
  1720,
  1723,
  2049,
  3659,
  4045,
  4190,
  5060,
  5061,
  6000,
  6566,
  6665,
  6666,
  6667,
  6668,
  6669,
  6679,
  6697,
  10080,
]);

/** Redirects followed, as fetch's limit. */
const MAX_REDIRECTS = 20;

/** Whether `fetch` would refuse `url` for its port alone (a default port is never refused). */
export function fetchBlocksPort(url: URL): boolean {
  return url.port !== "" && FETCH_BLOCKED_PORTS.has(Number(url.port));
}

/**
 * A GET of `url` with `headers`, redirects followed, as `fetch(url, { headers })` answers it,
 * on any port.
 */
export function registryFetch(
  url: string | URL,
  headers: Record<string, string>,
): Promise<Response> {
  const u = new URL(url);
  return fetchBlocksPort(u) ? nodeGet(u, headers, MAX_REDIRECTS) : fetch(u, { headers });
}

/** A request other than a GET: `push`'s HEAD, POST, PATCH and PUT. */
export interface RegistryRequest {
  method: "HEAD" | "POST" | "PATCH" | "PUT";
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
}

/**
 * `req` sent to `url` on any port, as `fetch` answers it. Redirects are not followed: an
 * upload's answers are read from their headers (`Location`), and a HEAD's status is all.
 */
export function registryRequest(url: string | URL, req: RegistryRequest): Promise<Response> {
  const u = new URL(url);
  if (!fetchBlocksPort(u)) {
    return fetch(u, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
  }
  return nodeRequest(u, req);
}

/**
 * `registryRequest` through node's client, for the ports fetch refuses. Exported for its
 * tests (any port: they cannot take a bad one).
 */
export async function nodeRequest(url: URL, req: RegistryRequest): Promise<Response> {
  const { request } = url.protocol === "https:"
    ? await import("node:https")
    : await import("node:http");
  const { Readable } = await import("node:stream");
  const headers = { ...req.headers, "content-length": String(req.body?.length ?? 0) };
  const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    const r = request(url, { method: req.method, headers }, resolve);
    r.on("error", reject);
    r.end(req.body ?? undefined);
  });
  const answer = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      answer.append(name, v);
    }
  }
  const status = res.statusCode ?? 0;
  const empty = req.method === "HEAD" || status === 204 || status === 304;
  if (empty) res.resume();
  const body = empty ? null : Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage, headers: answer });
}

/**
 * The GET through node's client, which knows no bad ports; redirects as fetch follows them.
 * Exported for its tests (any port: they cannot take a bad one).
 */
export async function nodeGet(
  url: URL,
  headers: Record<string, string>,
  redirects: number,
): Promise<Response> {
  const { get } = url.protocol === "https:"
    ? await import("node:https")
    : await import("node:http");
  const { Readable } = await import("node:stream");
  const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    get(url, { headers }, resolve).on("error", reject);
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(status) && location) {
    res.resume(); // the body of a redirect is not read
    if (redirects === 0) throw new TypeError(`too many redirects from ${url}`);
    const next = new URL(location, url);
    // As fetch: credentials are not sent on to another origin (blob storage signs its URLs).
    const { authorization: _, ...rest } = headers;
    const kept = next.origin === url.origin ? headers : rest;
    return fetchBlocksPort(next)
      ? nodeGet(next, kept, redirects - 1)
      : fetch(next, { headers: kept });
  }
  const answer = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      answer.append(name, v);
    }
  }
  const empty = status === 204 || status === 304;
  if (empty) res.resume();
  const body = empty ? null : Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage, headers: answer });
}
