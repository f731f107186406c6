import assert from "node:assert/strict";
import { criuLogError, lastCriuError } from "../../src/runtime/checkpoint.ts";

// `criu check` on these hosts (criu 3.17.1, kernel 6.18), as it printed it.
const CHECK = `Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds
Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable
Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.
Error (criu/crtools.c:260): Could not initialize kernel features detection.
`;

// The end of a dump log in the v2 guest before the network lock used nftables.
const DUMP = `(00.316954) Running network-lock scripts
Error (criu/util.c:627): execvp("iptables-restore", ...) failed: No such file or directory
(00.329849) Error (criu/util.c:642): exited, status=1
(00.343214) Error (criu/net.c:3071): Locking network failed: iptables-restore returned -1.
(00.370743) Error (criu/cr-dump.c:2053): Dumping FAILED.
`;

Deno.test("lastCriuError: criu check's last error line, without its source position", () => {
  assert.equal(lastCriuError(CHECK), "Could not initialize kernel features detection.");
  assert.equal(lastCriuError(DUMP), "Dumping FAILED.");
  assert.equal(lastCriuError("Looks good.\n"), "Looks good.");
  assert.equal(lastCriuError("\n"), null);
});

Deno.test("criuLogError: a log's last error before CRIU's summary, timestamp and position dropped", () => {
  assert.equal(
    criuLogError(DUMP),
    "Locking network failed: iptables-restore returned -1.",
  );
  // A guest's dump of an init that led no session: kerndat's probes failed first, harmlessly.
  assert.equal(
    criuLogError(`(00.051669) Error (criu/util.c:642): exited, status=1
(00.876620) Error (criu/cr-dump.c:1618): A session leader of 184(1) is outside of its pid namespace
(00.977020) Error (criu/cr-dump.c:2053): Dumping FAILED.
`),
    "A session leader of 184(1) is outside of its pid namespace",
  );
  assert.equal(
    criuLogError("(00.1) Error (criu/cr-restore.c:1): Restoring FAILED.\n"),
    "Restoring FAILED.",
  );
  assert.equal(criuLogError("(00.1) Exiting\n"), null);
});
