/**
 * A client for the OCI Distribution API (Docker Registry v2): manifests and blobs, with
 * anonymous bearer-token auth from `WWW-Authenticate` and basic auth when credentials are
 * given. Plain HTTP only for local or explicitly insecure registries.
 *
 * @module
 */

import { type ImageReference, registryHost, usesPlainHttp } from "./reference.ts";
import { ExitCodeError } from "../util/errors.ts";
import { registryFetch, type RegistryRequest, registryRequest } from "./http.ts";

/** The manifest media types we accept, most specific first. */
export const MANIFEST_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** A registry said no, or could not be reached: the message says which, for the user. */
export class RegistryError extends ExitCodeError {
  override name = "RegistryError";
  constructor(message: string) {
    super(message, 125);
  }
}

/** Options for a registry client. */
export interface RegistryOptions {
  /** Registries (host[:port]) to talk to over plain HTTP. */
  insecure?: readonly string[];
  /** `user:password` for basic auth (and for token requests). */
  credentials?: string;
  /** Ask tokens for `push,pull` rather than `pull` (and `pull` of `mountFrom`). */
  push?: boolean;
  /** Repositories of the same registry that blobs may be mounted from (token scopes). */
  mountFrom?: readonly string[];
}

/** The registry's own words for a refusal: the first `errors[].message` of its JSON body. */
async function registrySays(res: Response): Promise<string> {
  try {
    const body = await res.json() as { errors?: Array<{ code?: string; message?: string }> };
    const e = body.errors?.[0];
    return e ? `${e.code ? `${e.code.toLowerCase()}: ` : ""}${e.message ?? ""}` : "";
  } catch {
    return "";
  }
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
  return { scheme, params };
}

/** Talks to one repository of one registry. */
export class RegistryClient {
  private readonly base: string;
  private authorization?: string;

  constructor(readonly ref: ImageReference, private readonly opts: RegistryOptions = {}) {
    const scheme = usesPlainHttp(ref.registry, opts.insecure) ? "http" : "https";
    this.base = `${scheme}://${registryHost(ref)}/v2/${ref.repository}`;
  }

  /** GET with auth; one retry after answering a 401 challenge. */
  private async get(path: string, accept?: string): Promise<Response> {
    const attempt = () => {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      if (this.authorization) headers.authorization = this.authorization;
      return registryFetch(`${this.base}${path}`, headers);
    };
    const res = await this.authorized(attempt);
    return res;
  }

  /**
   * Runs `attempt`, and once more after answering a 401's challenge (token or basic auth);
   * a failure to reach the registry becomes one RegistryError line.
   */
  private async authorized(attempt: () => Promise<Response>): Promise<Response> {
    try {
      const res = await attempt();
      if (res.status !== 401) return res;
      const challenge = res.headers.get("www-authenticate") ?? "";
      await res.body?.cancel();
      await this.authenticate(challenge);
      return await attempt();
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError(
        `cannot reach registry ${this.ref.registry}: ${(e as Error).message.split("\n")[0]}`,
      );
    }
  }

  /** A request other than a GET to `path` (or to a URL an upload gave), with auth as `get`. */
  private async send(path: string | URL, req: RegistryRequest): Promise<Response> {
    const url = path instanceof URL ? path : `${this.base}${path}`;
    const attempt = () => {
      const headers = { ...req.headers };
      if (this.authorization) headers.authorization = this.authorization;
      return registryRequest(url, { ...req, headers });
    };
    const res = await this.authorized(attempt);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        `denied: requested access to the resource is denied (${this.ref.registry}/${this.ref.repository}; m-docker login)`,
      );
    }
    return res;
  }

  /** A refusal as one line: what was asked, the status and the registry's message. */
  private async refused(res: Response, what: string): Promise<RegistryError> {
    const says = await registrySays(res);
    return new RegistryError(
      `registry ${this.ref.registry} refused ${what}: ${res.status}${says ? ` ${says}` : ""}`,
    );
  }

  /** Where an upload goes next: its `Location`, relative to the registry. */
  private location(res: Response): URL {
    const location = res.headers.get("location");
    if (!location) throw new RegistryError(`registry ${this.ref.registry} gave no upload location`);
    return new URL(location, this.base);
  }

  /** True when the repository has the blob (a HEAD). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.send(`/blobs/${digest}`, { method: "HEAD", headers: {} });
    if (!res.ok && res.status !== 404) throw await this.refused(res, `a check of blob ${digest}`);
    await res.body?.cancel();
    return res.ok;
  }

  /**
   * Mounts a blob from another repository of the registry: true when it did, else the
   * upload the registry started instead (its location), as the distribution spec allows.
   */
  async mountBlob(digest: string, from: string): Promise<true | URL> {
    const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.send(`/blobs/uploads/${query}`, { method: "POST", headers: {} });
    if (res.status !== 201 && res.status !== 202) {
      throw await this.refused(res, `a mount of blob ${digest}`);
    }
    await res.body?.cancel();
    return res.status === 201 ? true : this.location(res);
  }

  /**
   * Uploads a blob: one PUT when it is at most `chunk` bytes, else PATCHes of `chunk` bytes
   * and a closing PUT. `at` is an upload already started (by a mount the registry refused);
   * `sent` reports the bytes so far.
   */
  async uploadBlob(
    digest: string,
    bytes: Uint8Array<ArrayBuffer>,
    chunk: number,
    at?: URL,
    sent?: (bytes: number) => void,
  ): Promise<void> {
    let location = at;
    if (!location) {
      const started = await this.send("/blobs/uploads/", {
        method: "POST",
        headers: { "content-length": "0" },
      });
      if (started.status !== 202) throw await this.refused(started, "an upload");
      await started.body?.cancel();
      location = this.location(started);
    }
    const octets = { "content-type": "application/octet-stream" };
    let last: Uint8Array<ArrayBuffer> = bytes;
    if (bytes.length > chunk) {
      for (let off = 0; off < bytes.length; off += chunk) {
        const part = bytes.subarray(off, Math.min(bytes.length, off + chunk));
        const res = await this.send(location, {
          method: "PATCH",
          headers: {
            ...octets,
            "content-length": String(part.length),
            "content-range": `${off}-${off + part.length - 1}`,
          },
          body: part,
        });
        if (res.status !== 202) throw await this.refused(res, `a chunk of blob ${digest}`);
        await res.body?.cancel();
        location = this.location(res);
        sent?.(off + part.length);
      }
      last = new Uint8Array(0);
    }
    const done = new URL(location);
    done.searchParams.set("digest", digest);
    const res = await this.send(done, {
      method: "PUT",
      headers: { ...octets, "content-length": String(last.length) },
      body: last,
    });
    if (res.status !== 201) throw await this.refused(res, `blob ${digest}`);
    await res.body?.cancel();
    sent?.(bytes.length);
  }

  /** Puts a manifest (its exact bytes) under `tag`. */
  async putManifest(tag: string, bytes: Uint8Array<ArrayBuffer>, mediaType: string): Promise<void> {
    const res = await this.send(`/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": mediaType, "content-length": String(bytes.length) },
      body: bytes,
    });
    if (res.status !== 201) throw await this.refused(res, `the manifest for ${tag}`);
    await res.body?.cancel();
  }

  private async authenticate(challenge: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    const basic = this.opts.credentials ? `Basic ${btoa(this.opts.credentials)}` : undefined;
    if (scheme === "basic" && basic) {
      this.authorization = basic;
      return;
    }
    if (scheme !== "bearer" || !params.realm) {
      throw new RegistryError(
        `unauthorized: registry ${this.ref.registry} wants credentials (m-docker login)`,
      );
    }
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    if (this.opts.push) {
      // The challenge names the scope of the request that was refused: a push needs both.
      url.searchParams.append("scope", `repository:${this.ref.repository}:push,pull`);
      for (const from of this.opts.mountFrom ?? []) {
        url.searchParams.append("scope", `repository:${from}:pull`);
      }
    } else {
      url.searchParams.set("scope", params.scope ?? `repository:${this.ref.repository}:pull`);
    }
    const res = await registryFetch(url, basic ? { authorization: basic } : {});
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(
        `unauthorized: the token service of ${this.ref.registry} said ${res.status}`,
      );
    }
    const body = await res.json() as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`unauthorized: no token from ${url.origin}`);
    this.authorization = `Bearer ${token}`;
  }

  /** A manifest or index by tag or digest: its bytes and media type. */
  async manifest(
    reference: string,
  ): Promise<{ bytes: Uint8Array<ArrayBuffer>; mediaType: string }> {
    const res = await this.get(`/manifests/${reference}`, Object.values(MANIFEST_TYPES).join(", "));
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(
        `manifest for ${this.ref.registry}/${this.ref.repository}:${reference} not found: manifest unknown`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        `pull access denied for ${this.ref.repository}, repository does not exist or may require 'm-docker login'`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(
        `registry ${this.ref.registry} answered ${res.status} for a manifest`,
      );
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const mediaType = res.headers.get("content-type")?.split(";")[0] ??
      (JSON.parse(new TextDecoder().decode(bytes)).mediaType as string);
    return { bytes, mediaType };
  }

  /** A blob's body as a stream (redirects to blob storage are followed). */
  async blob(digest: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.get(`/blobs/${digest}`);
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new RegistryError(
        `registry ${this.ref.registry} answered ${res.status} for blob ${digest}`,
      );
    }
    return res.body;
  }
}
