/**
 * SHA-256 from the system's libcrypto (OpenSSL 3), for the digests of layers. Node's
 * `createHash` hashes as fast, but loading `node:crypto` costs a CLI start about 20 ms, and
 * it hashes on the main thread; here an update runs on a worker thread (`updateAsync`), so
 * that a layer is digested while the main thread writes it out. The digest's initialisation
 * (about 2 ms: OpenSSL reads its configuration and fetches the algorithm) runs on a worker
 * thread too, while the caller goes on to read and unpack the first chunk. (Each bound symbol
 * costs a process about 0.2 ms, so only the asynchronous update and init are bound.)
 *
 * The only binding of libcrypto; `sha256Context` is null where it is not installed.
 *
 * @module
 */

const symbols = {
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_DigestInitAsync: {
    name: "EVP_DigestInit_ex",
    parameters: ["pointer", "pointer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  EVP_DigestUpdateAsync: {
    name: "EVP_DigestUpdate",
    parameters: ["pointer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  EVP_DigestFinal_ex: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Symbols | null | undefined;

function libcrypto(): Symbols | null {
  if (lib !== undefined) return lib;
  for (const name of ["libcrypto.so.3", "libcrypto.so"]) {
    try {
      return lib = Deno.dlopen(name, symbols).symbols;
    } catch {
      // Not installed under this name.
    }
  }
  return lib = null;
}

/** A SHA-256 computation in progress. Call `digest` (or `dispose`) to free it. */
export class Sha256 {
  private ctx: Deno.PointerValue;
  private busy: Promise<unknown> | null = null;
  private disposed = false;
  private initialised = false;
  /** Settles when the initialisation (on a worker thread) has; rejects if it failed. */
  readonly ready: Promise<void>;

  /** @internal use `sha256Context` */
  constructor(private readonly l: Symbols) {
    this.ctx = l.EVP_MD_CTX_new();
    if (this.ctx === null) throw new Error("libcrypto: cannot start a SHA-256 digest");
    const init = l.EVP_DigestInitAsync(this.ctx, l.EVP_sha256(), null);
    this.busy = init;
    this.ready = init.then((ok) => {
      this.busy = null;
      if (this.disposed) this.dispose();
      if (ok !== 1) {
        this.dispose();
        throw new Error("libcrypto: cannot start a SHA-256 digest");
      }
      this.initialised = true;
    });
    this.ready.catch(() => {}); // reported to whoever awaits an update or the digest
  }

  /**
   * Adds `data` on a worker thread, once the initialisation has settled. `data` must stay
   * unchanged, and no other update may start, until the promise settles.
   */
  async updateAsync(data: Uint8Array): Promise<void> {
    await this.ready;
    if (this.busy) throw new Error("sha256: an update while another runs");
    const call = this.l.EVP_DigestUpdateAsync(
      this.live(),
      data as Uint8Array<ArrayBuffer>,
      BigInt(data.length),
    );
    this.busy = call;
    try {
      if ((await call) !== 1) throw new Error("libcrypto: SHA-256 update failed");
    } finally {
      this.busy = null;
      if (this.disposed) this.dispose();
    }
  }

  /** The digest as lowercase hex (after `ready` has settled); frees the computation. */
  digest(): string {
    if (this.busy) throw new Error("sha256: digest while an asynchronous update runs");
    if (!this.initialised && !this.disposed) throw new Error("sha256: digest before ready");
    const out = new Uint8Array(32);
    const ok = this.l.EVP_DigestFinal_ex(this.live(), out, null);
    this.dispose();
    if (ok !== 1) throw new Error("libcrypto: SHA-256 final failed");
    let hex = "";
    for (const b of out) hex += b.toString(16).padStart(2, "0");
    return hex;
  }

  /** Frees the computation, at once or when the running asynchronous update settles. */
  dispose(): void {
    this.disposed = true;
    if (this.ctx !== null && !this.busy) {
      this.l.EVP_MD_CTX_free(this.ctx);
      this.ctx = null;
    }
  }

  private live(): Deno.PointerObject {
    if (this.ctx === null || this.disposed) throw new Error("sha256: used after digest");
    return this.ctx;
  }
}

/** A new SHA-256 computation, or null when the system has no libcrypto. */
export function sha256Context(): Sha256 | null {
  const l = libcrypto();
  return l === null ? null : new Sha256(l);
}
