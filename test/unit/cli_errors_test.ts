/**
 * The CLI's one mapping of errors to Docker's exit codes and lines (src/cli/context.ts),
 * decided per command: facts from docker/cli's cmd/docker/docker.go (getExitCode: 1 for any
 * error without a status) and cli/command/container/run.go (125 for run/create).
 */
import assert from "node:assert/strict";
import {
  type CliContext,
  CliError,
  failureExitCode,
  reportError,
  StdoutClosedError,
} from "../../src/cli/context.ts";
import { ExitCodeError, UsageError } from "../../src/util/errors.ts";
import { NoSuchContainerError } from "../../src/state/store.ts";

function fakeContext(path: string[]): { ctx: CliContext; stderr: () => string } {
  let err = "";
  const ctx = {
    debug: false,
    failureExitCode: failureExitCode(path),
    process: { stdout: { write() {} }, stderr: { write: (s: string) => void (err += s) } },
  } as unknown as CliContext;
  return { ctx, stderr: () => err };
}

Deno.test("failureExitCode: 125 for run and create (container ones too), 1 for the rest", () => {
  assert.equal(failureExitCode(["run", "busybox"]), 125);
  assert.equal(failureExitCode(["create"]), 125);
  assert.equal(failureExitCode(["container", "run"]), 125);
  assert.equal(failureExitCode(["container", "create"]), 125);
  for (const c of ["ps", "rm", "stop", "exec", "pull", "rmi", "inspect", "logs", "start"]) {
    assert.equal(failureExitCode([c]), 1, c);
  }
  // Docker's `network create` and `volume create` exit 1 like any other command.
  assert.equal(failureExitCode(["network", "create"]), 1);
  assert.equal(failureExitCode(["volume", "create"]), 1);
  assert.equal(failureExitCode(["container", "ls"]), 1);
  assert.equal(failureExitCode([]), 1);
});

Deno.test("reportError outside run: Docker's daemon line, exit 1; 126/127 are kept", () => {
  const { ctx, stderr } = fakeContext(["stop"]);
  assert.equal(reportError(ctx, new NoSuchContainerError("x")), 1);
  assert.equal(reportError(ctx, new ExitCodeError("container y is not running", 125)), 1);
  assert.equal(reportError(ctx, new UsageError("bad")), 1);
  assert.equal(reportError(ctx, new ExitCodeError(`exec: "nope": not found`, 127)), 127);
  assert.equal(reportError(ctx, new CliError("no public port '80' published for web")), 1);
  assert.equal(
    stderr(),
    "Error response from daemon: No such container: x\n" +
      "Error response from daemon: container y is not running\n" +
      "Error response from daemon: bad\n" +
      `Error response from daemon: exec: "nope": not found\n` +
      "no public port '80' published for web\n",
  );
});

Deno.test("reportError in run: m-docker: first, 125 unless the error carries a code", () => {
  // docker/cli: a flag the CLI refuses is `docker: <msg>`; what the daemon refused is
  // `docker: Error response from daemon: <msg>` (a name in use, exec's not found, 127).
  const { ctx, stderr } = fakeContext(["run"]);
  assert.equal(reportError(ctx, new UsageError("invalid memory size")), 125);
  assert.equal(reportError(ctx, new ExitCodeError("not found", 127)), 127);
  assert.equal(reportError(ctx, new CliError("the input device is not a TTY")), 1);
  assert.equal(reportError(ctx, new NoSuchContainerError("x")), 125);
  assert.equal(reportError(ctx, new Error("Conflict. The container name...")), 125);
  assert.equal(
    stderr(),
    "m-docker: invalid memory size\n" +
      "m-docker: Error response from daemon: not found\n" +
      "the input device is not a TTY\n" +
      "m-docker: Error response from daemon: No such container: x\n" +
      "m-docker: Error response from daemon: Conflict. The container name...\n",
  );
  // create is run's first half: the same lines.
  const create = fakeContext(["container", "create"]);
  reportError(create.ctx, new UsageError("invalid reference format"));
  reportError(create.ctx, new Error("no such device"));
  assert.equal(
    create.stderr(),
    "m-docker: invalid reference format\nm-docker: Error response from daemon: no such device\n",
  );
});

Deno.test("a closed stdout is no error to print: 141 (128 + SIGPIPE), nothing said", () => {
  const { ctx, stderr } = fakeContext(["ps"]);
  assert.equal(reportError(ctx, new StdoutClosedError()), 141);
  assert.equal(stderr(), "");
});
