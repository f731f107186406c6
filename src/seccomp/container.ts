/**
 * The seccomp filter of one container: its profile (Docker's default, or the user's own)
 * resolved against the container's capabilities and this kernel, compiled to BPF. The
 * parent compiles it at every start and hands init the bytes, so init loads no profile.
 *
 * @module
 */

import type { SeccompChoice } from "../config/container.ts";
import { compileFilter } from "./compile.ts";
import { DOCKER_DEFAULT_PROFILE } from "./docker_default.ts";
import {
  type FlatRule,
  parseSeccompProfile,
  resolveProfile,
  runningKernel,
  SECCOMP_RET,
} from "./profile.ts";
import { SYSCALLS_X86_64 } from "./syscalls_x86_64.ts";

/**
 * The compiled filter for a container created with `choice` and holding `capabilities`,
 * or undefined for `unconfined`. `extra` rules come before the profile's (exec's own
 * calls after its spawn). Throws a `SeccompProfileError` for a profile that cannot be used.
 */
export function containerSeccompFilter(
  choice: SeccompChoice | undefined,
  capabilities: Iterable<number>,
  extra: readonly FlatRule[] = [],
): Uint8Array<ArrayBuffer> | undefined {
  if (choice === "unconfined") return undefined;
  const profile = choice ? parseSeccompProfile(choice.profileJson) : DOCKER_DEFAULT_PROFILE;
  const flat = resolveProfile(profile, { capabilities, kernel: runningKernel() });
  flat.rules.unshift(...extra);
  return compileFilter(flat).bytes;
}

/** Throws a `SeccompProfileError` when `choice`'s profile cannot be compiled. */
export function validateSeccompChoice(
  choice: SeccompChoice | undefined,
  capabilities: Iterable<number>,
): void {
  containerSeccompFilter(choice, capabilities);
}

/**
 * A rule that lets exactly `setns(fd, nstype)` through. `exec` needs it: the CLI's thread
 * carries the container's filter after it spawned the command, and must still go back to
 * its own namespaces through descriptors it holds (close-on-exec, so the command never has
 * them; and it lacks the CAP_SYS_ADMIN setns needs in any case).
 */
export function allowSetns(fd: number, nstype: number): FlatRule {
  return {
    nr: SYSCALLS_X86_64.get("setns")!,
    name: "setns",
    ret: SECCOMP_RET.ALLOW,
    args: [
      { index: 0, value: BigInt(fd), valueTwo: 0n, op: "SCMP_CMP_EQ" },
      { index: 1, value: BigInt(nstype), valueTwo: 0n, op: "SCMP_CMP_EQ" },
    ],
  };
}
