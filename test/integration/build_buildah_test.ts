/**
 * The same Dockerfile built by `m-docker build` and by Debian's `buildah bud` (in a jail of
 * the test's own, oci_peers.ts): the two images' configs and file trees agree. buildah's
 * image comes back to m-docker through `buildah push docker-archive:` and `m-docker load`,
 * so both trees are listed by the same command in the same engine.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";
import { IMAGE, PeerSandbox } from "./oci_peers.ts";

const DOCKERFILE = `FROM ${IMAGE}
ENV APP=demo MODE=test
WORKDIR /app
COPY f.txt sub/ ./
RUN echo built > built && mkdir -p /data && chmod 0750 /data && ln -s built link
LABEL org.example.k=v
EXPOSE 8080/tcp
USER 1000:1000
CMD ["cat", "/app/built"]
`;

/** The parts of a config both builders set from this Dockerfile. */
// deno-lint-ignore no-explicit-any
function essentials(config: any) {
  return {
    Env: [...(config.Env ?? [])].sort(),
    Cmd: config.Cmd,
    WorkingDir: config.WorkingDir,
    User: config.User,
    ExposedPorts: Object.keys(config.ExposedPorts ?? {}).sort(),
    Labels: config.Labels?.["org.example.k"],
  };
}

const TREE = "find /app /data -exec stat -c '%n %F %a %u:%g %s' {} + | sort";

Deno.test(
  { name: "build: the same Dockerfile as buildah bud, same config and files", ...asRoot },
  async () => {
    const sb = new Sandbox();
    const peers = await PeerSandbox.start("build-vs-buildah");
    try {
      const ctx = `${sb.dir}/ctx`;
      Deno.mkdirSync(`${ctx}/sub`, { recursive: true });
      Deno.writeTextFileSync(`${ctx}/Dockerfile`, DOCKERFILE);
      Deno.writeTextFileSync(`${ctx}/f.txt`, "a file\n");
      Deno.writeTextFileSync(`${ctx}/sub/g.txt`, "in sub\n");
      await sb.ok(["build", "-q", "-t", "mine:1", ctx]);

      await peers.podmanLoad();
      await peers.buildahOk([
        "bud",
        "--pull=never",
        "--isolation",
        "oci",
        "--network",
        "none",
        "--cgroup-parent",
        `/${peers.tag}-buildah`,
        "-t",
        "localhost/theirs:1",
        ctx,
      ]);
      const archive = `${sb.dir}/theirs.tar`;
      await peers.buildahOk(["push", "localhost/theirs:1", `docker-archive:${archive}:theirs:1`]);
      await sb.ok(["load", "-i", archive]);

      const config = async (ref: string) =>
        JSON.parse(await sb.ok(["image", "inspect", ref]))[0].Config;
      assert.deepEqual(essentials(await config("mine:1")), essentials(await config("theirs:1")));
      const tree = (ref: string) =>
        sb.ok(["run", "--rm", "--user", "0", "--entrypoint", "", ref, "sh", "-c", TREE]);
      const mine = await tree("mine:1");
      assert.match(mine, /\/app\/built regular file 644 0:0 6/);
      assert.equal(mine, await tree("theirs:1"));
      assert.equal(await sb.ok(["run", "--rm", "mine:1"]), "built\n");
    } finally {
      await peers.cleanup();
      await sb.cleanup();
    }
  },
);
