/**
 * SHA-256 from the system's libcrypto (OpenSSL), for the digests of layers. Node's
 * `createHash` hashes as fast, but loading `node:crypto` costs a CLI start about 20 ms, and
 * it hashes on the main thread; here an update runs on a worker thread (`updateAsync`), so
 * that a layer is digested while the main thread writes it out.
 *
 * The binding is OpenSSL's plain `SHA256_Init`/`Update`/`Final` on a context held in our own
 * memory, the same SHA-NI code as the EVP interface's: that one's first digest (a context to
 * allocate and free, OpenSSL's configuration file read, the algorithm fetched from its
 * provider) cost about 2 ms before the first byte could be hashed, and its six symbols
 * about 1.4 ms to bind (Deno compiles a trampoline for each), where these three bind in
 * about 0.7 ms and start at once. An OpenSSL built without these (deprecated) functions
 * counts as none: layers are then hashed by `node:crypto`.
 *
 * The only binding of libcrypto; `sha256Context` is null where it is not installed.
 *
 * @module
 */

const symbols = {
  SHA256_Init: { parameters: ["buffer"], result: "i32" },
  SHA256_UpdateAsync: {
    name: "SHA256_Update",
    parameters: ["buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  SHA256_Final: { parameters: ["buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Bytes for a `SHA256_CTX` (112 on every ABI OpenSSL supports), with room to spare. */
const CTX_SIZE = 256;

type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Symbols | null | undefined;

function libcrypto(): Symbols | null {
  if (lib !== undefined) return lib;
  for (const name of ["libcrypto.so.3", "libcrypto.so"]) {
    try {
      return lib = Deno.dlopen(name, symbols).symbols;
    } catch {
      // Not installed under this name, or without these functions.
    }
  }
  return lib = null;
}

/** A SHA-256 computation in progress. Call `digest` (or `dispose`) to end it. */
export class Sha256 {
  /** The `SHA256_CTX`; a worker thread writes it during an update. */
  private readonly ctx = new Uint8Array(CTX_SIZE);
  private busy: Promise<unknown> | null = null;
  private disposed = false;

  /** @internal use `sha256Context` */
  constructor(private readonly l: Symbols) {
    if (l.SHA256_Init(this.ctx) !== 1) throw new Error("libcrypto: cannot start a SHA-256 digest");
  }

  /**
   * Adds `data` on a worker thread. `data` must stay unchanged, and no other update may
   * start, until the promise settles.
   */
  async updateAsync(data: Uint8Array): Promise<void> {
    if (this.busy) throw new Error("sha256: an update while another runs");
    const call = this.l.SHA256_UpdateAsync(
      this.live(),
      data as Uint8Array<ArrayBuffer>,
      BigInt(data.length),
    );
    this.busy = call;
    try {
      if ((await call) !== 1) throw new Error("libcrypto: SHA-256 update failed");
    } finally {
      this.busy = null;
    }
  }

  /** The digest as lowercase hex; ends the computation. */
  digest(): string {
    if (this.busy) throw new Error("sha256: digest while an asynchronous update runs");
    const out = new Uint8Array(32);
    const ok = this.l.SHA256_Final(out, this.live());
    this.dispose();
    if (ok !== 1) throw new Error("libcrypto: SHA-256 final failed");
    let hex = "";
    for (const b of out) hex += b.toString(16).padStart(2, "0");
    return hex;
  }

  /**
   * Ends the computation. Its context is our memory, which a running update keeps alive
   * (the promise holds this object) until it settles.
   */
  dispose(): void {
    this.disposed = true;
  }

  private live(): Uint8Array<ArrayBuffer> {
    if (this.disposed) throw new Error("sha256: used after digest");
    return this.ctx;
  }
}

/** A new SHA-256 computation, or null when the system has no libcrypto. */
export function sha256Context(): Sha256 | null {
  const l = libcrypto();
  return l === null ? null : new Sha256(l);
}
