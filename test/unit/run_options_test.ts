import assert from "node:assert/strict";
import { parseEnvFile, parseEnvFlags, parseVolume, requestEnv } from "../../src/cli/run_options.ts";
import { UsageError } from "../../src/util/errors.ts";

Deno.test("parseVolume accepts HOST:CTR[:ro|rw] and refuses the rest", () => {
  assert.deepEqual(parseVolume("/data:/data"), {
    source: "/data",
    destination: "/data",
    readonly: false,
  });
  assert.deepEqual(parseVolume("/a/:/b:ro"), { source: "/a", destination: "/b", readonly: true });
  for (const bad of ["data:/data", "/a:b", "/a:/", "/a:/b:xx", "/a", "/a:/b:ro:z"]) {
    assert.throws(() => parseVolume(bad), UsageError, bad);
  }
});

Deno.test("parseEnvFile reads KEY=VALUE, skips comments, and refuses keys with spaces", () => {
  const none = () => undefined;
  assert.deepEqual(parseEnvFile("f", "# c\nA=1\n\n  B=two words\n", none), ["A=1", "B=two words"]);
  assert.throws(() => parseEnvFile("f", "BAD KEY=1\n", none), /whitespace/);
  assert.deepEqual(parseEnvFile("f", "HOME\nUNSET\n", (k) => k === "HOME" ? "/h" : undefined), [
    "HOME=/h",
    "UNSET=",
  ]);
});

Deno.test("parseEnvFlags takes a bare KEY from the caller and drops it when unset", () => {
  const lookup = (k: string) => k === "USER" ? "root" : undefined;
  assert.deepEqual(parseEnvFlags(["A=1", "USER", "UNSET", "B="], lookup), [
    "A=1",
    "USER=root",
    "B=",
  ]);
  assert.throws(() => parseEnvFlags(["=x"], lookup), UsageError);
});

Deno.test("requestEnv reads env files before -e flags, and names a missing file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/vars`, "A=file\nB=file\n");
    assert.deepEqual(requestEnv([`${dir}/vars`], ["A=flag"], () => undefined), [
      "A=file",
      "B=file",
      "A=flag",
    ]);
    assert.throws(() => requestEnv([`${dir}/missing`], [], () => undefined), /open .*missing/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
