/**
 * Which CPUs a container can be given: the caller's own cpuset (effective CPUs), or the
 * host's online CPUs, read through a fake cgroupfs.
 */
import assert from "node:assert/strict";
import { availableCpus } from "../../src/cgroups/cpus.ts";
import { FakeCgroupFs } from "./fake_cgroupfs.ts";

const HYBRID_MOUNTINFO = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");
const V2_MOUNTINFO = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
const ONLINE = "/sys/devices/system/cpu/online";

Deno.test("availableCpus on v1: the caller's cpuset, effective CPUs first", () => {
  const fs = new FakeCgroupFs(["/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset/job"], {
    "/sys/fs/cgroup/cpuset/cpuset.effective_cpus": "0-7\n",
    "/sys/fs/cgroup/cpuset/job/cpuset.cpus": "0-3\n",
    "/sys/fs/cgroup/cpuset/job/cpuset.effective_cpus": "2-3\n",
    [ONLINE]: "0-7\n",
  });
  const opts = { fs, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: "2:cpuset:/job\n1:memory:/\n" };
  assert.equal(availableCpus(opts), "2-3");
  // An absolute parent is placed from the hierarchy's root.
  assert.equal(availableCpus({ ...opts, parent: "/m-docker" }), "0-7");
  fs.files.delete("/sys/fs/cgroup/cpuset/job/cpuset.effective_cpus"); // an old kernel
  assert.equal(availableCpus(opts), "0-3");
});

Deno.test("availableCpus on v2: the nearest cgroup with cpuset files, up to the root", () => {
  const fs = new FakeCgroupFs(["/sys/fs/cgroup", "/sys/fs/cgroup/a", "/sys/fs/cgroup/a/b"], {
    "/sys/fs/cgroup/cpuset.cpus.effective": "0-3\n",
    "/sys/fs/cgroup/a/cpuset.cpus.effective": "1\n",
  });
  const opts = { fs, mountinfo: V2_MOUNTINFO, procSelfCgroup: "0::/a/b\n" };
  assert.equal(availableCpus(opts), "1", "b has no cpuset controller: a's apply");
  assert.equal(availableCpus({ ...opts, procSelfCgroup: "0::/\n" }), "0-3");
});

Deno.test("availableCpus falls back to the online CPUs, and never throws", () => {
  const fs = new FakeCgroupFs([], { [ONLINE]: "0-1\n" });
  // No cpuset hierarchy mounted.
  const mountinfo = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory";
  assert.equal(availableCpus({ fs, mountinfo, procSelfCgroup: "1:memory:/\n" }), "0-1");
  // No cgroup filesystem at all.
  assert.equal(availableCpus({ fs, mountinfo: "", procSelfCgroup: "" }), "0-1");
  fs.files.delete(ONLINE);
  assert.equal(availableCpus({ fs, mountinfo: "", procSelfCgroup: "" }), undefined);
});
