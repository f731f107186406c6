/**
 * What every test/v2 file shares: whether this is the pure cgroup v2 guest that
 * scripts/vm-test boots. Everywhere else the v2 tests are skipped.
 */
import { asRoot } from "../integration/harness.ts";

/** True when /sys/fs/cgroup is a cgroup2 mount (the guest boots with `cgroup_no_v1=all`). */
export function isPureV2(): boolean {
  try {
    return Deno.readTextFileSync("/proc/self/mounts").split("\n")
      .some((l) => l.split(" ")[1] === "/sys/fs/cgroup" && l.split(" ")[2] === "cgroup2");
  } catch {
    return false;
  }
}

/** Test options: as root, and only on a pure cgroup v2 host. */
export const v2Only = { ...asRoot, ignore: asRoot.ignore || !isPureV2() };
