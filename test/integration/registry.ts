/**
 * A real registry for the pull and push tests: Debian's docker-registry (the CNCF
 * distribution registry) on 127.0.0.1, on a port the kernel just gave out, its storage in
 * the test's sandbox; skopeo to put images in and read them back; and a proxy in front of
 * it that records the requests and may ask for credentials.
 */
import assert from "node:assert/strict";
import { waitFor } from "./harness.ts";

/** True when docker-registry and skopeo are installed (.ci/run installs them). */
export const haveRegistryTools = ["/usr/bin/docker-registry", "/usr/bin/skopeo"].every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** A docker-registry started by a test; `stop` kills it and waits. */
export class TestRegistry {
  private constructor(private readonly child: Deno.ChildProcess, readonly port: number) {}

  /** `127.0.0.1:PORT`. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts one with its storage under `dir` and waits until it answers `/v2/`. */
  static async start(dir: string): Promise<TestRegistry> {
    // A port the kernel just gave out and took back: free, unlike a random guess, which may
    // be another suite's registry.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const config = `${dir}/registry.yml`;
    Deno.writeTextFileSync(
      config,
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/registry\n` +
        `http:\n  addr: 127.0.0.1:${port}\n`,
    );
    const child = new Deno.Command("/usr/bin/docker-registry", {
      args: ["serve", config],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    const registry = new TestRegistry(child, port);
    await waitFor(async () => {
      assert.ok(!exited, "the registry exited");
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      return res.ok;
    }, { what: `the registry on 127.0.0.1:${port}` });
    return registry;
  }

  /** Kills the registry and waits for it. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status;
  }
}

/**
 * Runs skopeo; its stdout, or a failed assertion with its stderr. Asynchronous, so that a
 * proxy served by the test's own process goes on answering it.
 */
export async function skopeo(...args: string[]): Promise<string> {
  const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** One request the proxy passed on. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The body's length. */
  bytes: number;
}

/** How the proxy asks for credentials: not at all, basic auth, or a token service. */
export type ProxyAuth =
  | { kind: "none" }
  | { kind: "basic"; user: string; password: string }
  | { kind: "token"; user: string; password: string };

/**
 * A proxy in front of `upstream` (`http://127.0.0.1:PORT`) that records every request it
 * passes on (and the scopes tokens were asked for) and rewrites the upstream's upload
 * locations to itself, so that a whole push goes through it.
 */
export class RecordingProxy {
  readonly requests: ProxiedRequest[] = [];
  readonly scopes: string[][] = [];
  /** An answer the proxy gives instead of the upstream's, when this returns one. */
  refuse?: (method: string, path: string) => Response | undefined;
  private readonly server: Deno.HttpServer<Deno.NetAddr>;

  constructor(private readonly upstream: string, auth: ProxyAuth = { kind: "none" }) {
    const token = `test-token-${crypto.randomUUID()}`;
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req): Promise<Response> => {
        const url = new URL(req.url);
        const given = req.headers.get("authorization") ?? "";
        const basic = auth.kind === "none" ? "" : `Basic ${btoa(`${auth.user}:${auth.password}`)}`;
        if (auth.kind === "token" && url.pathname === "/token") {
          if (given !== basic) return new Response("no", { status: 401 });
          this.scopes.push(url.searchParams.getAll("scope"));
          return Response.json({ token });
        }
        if (auth.kind === "basic" && given !== basic) {
          return new Response("unauthorized", {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="test"' },
          });
        }
        if (auth.kind === "token" && given !== `Bearer ${token}`) {
          return new Response("unauthorized", {
            status: 401,
            headers: {
              "www-authenticate": `Bearer realm="http://${this.host}/token",service="test",` +
                `scope="repository:${url.pathname.split("/").slice(2, 4).join("/")}:pull"`,
            },
          });
        }
        const refusal = this.refuse?.(req.method, url.pathname);
        if (refusal) return refusal;
        const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
        this.requests.push({ method: req.method, path: url.pathname, bytes: body?.length ?? 0 });
        const headers = new Headers(req.headers);
        headers.delete("authorization");
        headers.delete("host");
        const res = await fetch(`${this.upstream}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body,
          redirect: "manual",
        });
        const answer = new Headers(res.headers);
        const location = answer.get("location");
        if (location) {
          answer.set("location", location.replace(this.upstream, `http://${this.host}`));
        }
        return new Response(req.method === "HEAD" ? null : res.body, {
          status: res.status,
          headers: answer,
        });
      },
    );
  }

  /** `127.0.0.1:PORT` of the proxy. */
  get host(): string {
    return `127.0.0.1:${this.server.addr.port}`;
  }

  /** Stops the proxy. */
  async stop(): Promise<void> {
    await this.server.shutdown();
  }
}
