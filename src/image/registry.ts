/**
 * A client for the OCI Distribution API (Docker Registry v2): manifests and blobs, with
 * anonymous bearer-token auth from `WWW-Authenticate` and basic auth when credentials are
 * given. Plain HTTP only for local or explicitly insecure registries.
 *
 * @module
 */

import { type ImageReference, registryHost, usesPlainHttp } from "./reference.ts";
import { ExitCodeError } from "../util/errors.ts";
import { registryFetch } from "./http.ts";

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
    let res: Response;
    try {
      res = await attempt();
      if (res.status === 401) {
        const challenge = res.headers.get("www-authenticate") ?? "";
        await res.body?.cancel();
        await this.authenticate(challenge);
        res = await attempt();
      }
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError(
        `cannot reach registry ${this.ref.registry}: ${(e as Error).message.split("\n")[0]}`,
      );
    }
    return res;
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
    url.searchParams.set("scope", params.scope ?? `repository:${this.ref.repository}:pull`);
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
