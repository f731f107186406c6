/**
 * Plain-data fixtures the unit tests share: a minimal InitConfig for the root filesystem
 * plan and a minimal RunRequest, each with overrides.
 */
import type { InitConfig } from "../../src/config/init.ts";
import type { RunRequest } from "../../src/config/run_request.ts";

/** An InitConfig for container `c1` under `containerDir`, with its /etc files in `etcDir`. */
export function initConfig(
  lowerDirs: string[],
  containerDir: string,
  etcDir: string,
  extra: Partial<InitConfig> = {},
): InitConfig {
  return {
    rootfs: {
      lowerDirs,
      upperDir: `${containerDir}/upper`,
      workDir: `${containerDir}/work`,
      mountPoint: `${containerDir}/merged`,
    },
    etcFiles: {
      hostname: `${etcDir}/hostname`,
      hosts: `${etcDir}/hosts`,
      resolvConf: `${etcDir}/resolv.conf`,
    },
    mounts: [],
    hostname: "c1",
    args: ["sh"],
    env: [],
    cwd: "/",
    uid: 0,
    gid: 0,
    tty: false,
    loopbackUp: true,
    ...extra,
  };
}

/** A RunRequest for `busybox` that asks for nothing else. */
export function runRequest(over: Partial<RunRequest> = {}): RunRequest {
  return {
    image: "busybox",
    command: [],
    env: [],
    mounts: [],
    tty: false,
    interactive: false,
    detach: false,
    autoRemove: false,
    limits: {},
    ...over,
  };
}
