import assert from "node:assert/strict";
import {
  logAttributes,
  logConfigFromFlags,
  logRotation,
  parseHumanSize,
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

Deno.test("logRotation: json-file's defaults and limits, local's defaults (20 MB, 5 files)", () => {
  assert.deepEqual(logRotation({ type: "json-file", config: {} }), { maxSize: -1, maxFiles: 1 });
  assert.deepEqual(
    logRotation({ type: "json-file", config: { "max-size": "1k", "max-file": "3" } }),
    { maxSize: 1000, maxFiles: 3 },
  );
  assert.deepEqual(logRotation({ type: "local", config: {} }), {
    maxSize: 20_000_000,
    maxFiles: 5,
  });
  assert.deepEqual(logRotation({ type: "local", config: { "max-size": "1m" } }), {
    maxSize: 1_000_000,
    maxFiles: 5,
  });
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
