import assert from "node:assert/strict";
import {
  logAttributes,
  logConfigFromFlags,
  logMode,
  logRotation,
  parseHumanSize,
  parseRamInBytes,
  validateLogConfig,
} from "../../src/config/logging.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";

Deno.test("parseHumanSize is go-units' FromHumanSize: decimal units, Docker's messages", () => {
  assert.equal(parseHumanSize("10m"), 10_000_000);
  assert.equal(parseHumanSize("10MB"), 10_000_000);
  assert.equal(parseHumanSize("1.5k"), 1500);
  assert.equal(parseHumanSize("3 kib"), 3000);
  assert.equal(parseHumanSize("42"), 42);
  assert.equal(parseHumanSize("7b"), 7);
  assert.throws(() => parseHumanSize("abc"), { message: "invalid size: 'abc'" });
  assert.throws(() => parseHumanSize("10x"), { message: "invalid suffix: 'x'" });
  assert.throws(() => parseHumanSize("10mbb"), { message: "invalid suffix: 'mbb'" });
});

Deno.test("logRotation: json-file's defaults and limits, local's defaults (20 MiB, 5 files, gzipped)", () => {
  assert.deepEqual(logRotation({ type: "json-file", config: {} }), {
    maxSize: -1,
    maxFiles: 1,
    compress: false,
  });
  assert.deepEqual(
    logRotation({ type: "json-file", config: { "max-size": "1k", "max-file": "3" } }),
    { maxSize: 1000, maxFiles: 3, compress: false },
  );
  assert.deepEqual(
    logRotation({
      type: "json-file",
      config: { "max-size": "1k", "max-file": "3", compress: "true" },
    }),
    { maxSize: 1000, maxFiles: 3, compress: true },
  );
  // moby local.go: defaultMaxFileSize = 20 * 1024 * 1024, 5 files, compressed.
  assert.deepEqual(logRotation({ type: "local", config: {} }), {
    maxSize: 20 * 1024 * 1024,
    maxFiles: 5,
    compress: true,
  });
  assert.deepEqual(logRotation({ type: "local", config: { "max-size": "1m" } }), {
    maxSize: 1_000_000,
    maxFiles: 5,
    compress: true,
  });
  assert.deepEqual(
    logRotation({ type: "local", config: { "max-file": "1", compress: "false" } }),
    { maxSize: 20 * 1024 * 1024, maxFiles: 1, compress: false },
  );
});

Deno.test("logMode: non-blocking with max-buffer-size in binary units (go-units RAMInBytes)", () => {
  assert.deepEqual(logMode({ type: "json-file", config: {} }), {
    nonBlocking: false,
    maxBufferSize: 1e6,
  });
  // Docker's ring logger: defaultRingMaxSize = 1e6 when max-buffer-size is not given.
  assert.deepEqual(logMode({ type: "local", config: { mode: "non-blocking" } }), {
    nonBlocking: true,
    maxBufferSize: 1e6,
  });
  assert.deepEqual(
    logMode({ type: "json-file", config: { mode: "non-blocking", "max-buffer-size": "4m" } }),
    { nonBlocking: true, maxBufferSize: 4 * 1024 * 1024 },
  );
  assert.equal(parseRamInBytes("10KiB"), 10240);
  assert.equal(parseRamInBytes("512"), 512);
  assert.throws(() => parseRamInBytes("4x"), { message: "invalid size: '4x'" });
});

/** The message Docker gives for `run --log-driver DRIVER --log-opt OPTS...`. */
function message(type: string, config: Record<string, string>): string {
  try {
    validateLogConfig({ type: type as "json-file", config });
  } catch (e) {
    assert.ok(e instanceof InvalidConfigError);
    return e.message;
  }
  return "";
}

Deno.test("validateLogConfig gives Docker's messages (moby daemon/logger)", () => {
  assert.equal(message("json-file", {}), "");
  assert.equal(message("local", { "max-size": "5m", "max-file": "2" }), "");
  assert.equal(message("none", {}), "");
  assert.equal(message("syslog", {}), "logger: no log driver named 'syslog' is registered");
  assert.equal(
    message("json-file", { foo: "1" }),
    "unknown log opt 'foo' for json-file log driver",
  );
  assert.equal(message("local", { foo: "1" }), "unknown log opt 'foo' for log driver local");
  assert.equal(message("json-file", { "max-size": "0" }), "max-size must be a positive number");
  assert.equal(message("json-file", { "max-file": "0" }), "max-file cannot be less than 1");
  assert.equal(
    message("json-file", { "max-file": "x" }),
    'strconv.Atoi: parsing "x": invalid syntax',
  );
  assert.equal(
    message("json-file", { compress: "true" }),
    "compress cannot be true when max-file is less than 2 or max-size is not set",
  );
  assert.equal(message("local", { "max-file": "-1" }), "max-file must not be negative");
  // moby local/config.go: rotated files are compressed by default, so one file is an error.
  assert.equal(
    message("local", { "max-file": "1" }),
    "compression cannot be enabled when max file count is 1",
  );
  assert.equal(message("local", { "max-file": "1", compress: "false" }), "");
  assert.equal(
    message("json-file", { mode: "non-blocking", "max-buffer-size": "lots" }),
    "invalid size: 'lots'",
  );
  assert.equal(message("json-file", { mode: "fast" }), "logger: logging mode not supported: fast");
  assert.equal(
    message("json-file", { "max-buffer-size": "4m" }),
    "logger: max-buffer-size option is only supported with 'mode=non-blocking'",
  );
  assert.equal(message("json-file", { mode: "non-blocking", "max-buffer-size": "4m" }), "");
});

Deno.test("logConfigFromFlags: KEY=VALUE (KEY alone is empty), no options for none", () => {
  assert.deepEqual(logConfigFromFlags(undefined, ["max-size=1m", "tag"]), {
    type: "json-file",
    config: { "max-size": "1m", tag: "" },
  });
  assert.deepEqual(logConfigFromFlags("none", []), { type: "none", config: {} });
  assert.throws(
    () => logConfigFromFlags("none", ["max-size=1m"]),
    { message: "invalid logging opts for driver none" },
  );
});

Deno.test("logAttributes: labels, env, their regexes and the tag, as ExtraAttributes", () => {
  const c = {
    id: "0123456789abcdef",
    name: "web",
    image: "busybox",
    env: ["A=1", "B=two", "PATH=/bin"],
    labels: { "com.x": "y", other: "z" },
  };
  assert.deepEqual(
    logAttributes({
      type: "json-file",
      config: {
        labels: "com.x,missing",
        env: "B,NOPE",
        "env-regex": "^A$",
        tag: "{{.Name}}/{{.ID}}",
      },
    }, c),
    { "com.x": "y", B: "two", A: "1", tag: "web/0123456789ab" },
  );
  assert.deepEqual(logAttributes({ type: "json-file", config: { "labels-regex": "^o" } }, c), {
    other: "z",
  });
  assert.deepEqual(logAttributes({ type: "json-file", config: {} }, c), {});
});
