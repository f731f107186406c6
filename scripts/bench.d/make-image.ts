/**
 * Writes an OCI image layout for the pull benchmark: LAYERS layers of incompressible data,
 * SIZE_MB megabytes in all, plus the host's busybox, tagged "bench". Beside it, two layers
 * for the unpacking comparison: layer.tar (the largest) and small.tar (many small files).
 *
 *   deno run -A scripts/bench.d/make-image.ts DIR [SIZE_MB] [LAYERS]
 */
import { writeTar } from "../../src/image/tar_writer.ts";

const [dir, sizeArg = "100", layersArg = "5"] = Deno.args;
const total = Number(sizeArg) * 1024 * 1024, count = Number(layersArg);

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return `sha256:${[...d].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}
async function gzip(b: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await new Response(new Blob([b]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
}
async function blob(mediaType: string, bytes: Uint8Array<ArrayBuffer>) {
  const digest = await sha256(bytes);
  Deno.writeFileSync(`${dir}/blobs/sha256/${digest.slice(7)}`, bytes);
  return { mediaType, digest, size: bytes.length };
}
function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

Deno.mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
Deno.writeTextFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
const tars = [writeTar([
  { name: "bin", type: "directory" },
  { name: "bin/busybox", body: Deno.readFileSync("/bin/busybox"), mode: 0o755 },
])];
for (let i = 0; i < count; i++) {
  tars.push(writeTar(Array.from({ length: 8 }, (_, j) => ({
    name: `data/${i}/file-${j}`,
    body: random(Math.floor(total / count / 8)),
  }))));
}
const layers = [];
for (const t of tars) {
  layers.push(await blob("application/vnd.oci.image.layer.v1.tar+gzip", await gzip(t)));
}
const config = await blob(
  "application/vnd.oci.image.config.v1+json",
  new TextEncoder().encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/busybox", "true"] },
    rootfs: { type: "layers", diff_ids: await Promise.all(tars.map(sha256)) },
  })),
);
const manifest = await blob(
  "application/vnd.oci.image.manifest.v1+json",
  new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config,
    layers,
  })),
);
Deno.writeTextFileSync(
  `${dir}/index.json`,
  JSON.stringify({
    schemaVersion: 2,
    manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "bench" } }],
  }),
);
// The largest layer, uncompressed, for the extraction comparison.
Deno.writeFileSync(`${dir}/../layer.tar`, tars[1]);
// And a layer of many small files in many directories (as a distribution's rootfs is: the
// cost per entry, not per byte), 4000 files of 0 to 8 KiB and 400 symlinks in 200 directories.
const small = [];
for (let d = 0; d < 200; d++) {
  small.push({ name: `usr/share/d${d}`, type: "directory" as const });
  for (let f = 0; f < 20; f++) {
    small.push({ name: `usr/share/d${d}/f${f}`, body: random((d * 20 + f) * 997 % 8192) });
  }
  small.push({ name: `usr/share/d${d}/l0`, type: "symlink" as const, linkname: "f0" });
  small.push({ name: `usr/share/d${d}/l1`, type: "symlink" as const, linkname: "../d0/f1" });
}
Deno.writeFileSync(`${dir}/../small.tar`, writeTar(small));
