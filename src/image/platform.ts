/**
 * The host's platform in OCI words (`linux/amd64`), in a module of its own so that the
 * built-in image can say it without loading the puller.
 *
 * @module
 */

/** The host's platform in OCI words: `linux/amd64`, `linux/arm64`, ... */
export function hostPlatform(): string {
  const arch = ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
  return `linux/${arch}`;
}
