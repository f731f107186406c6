/**
 * `login [-u USER] [-p PASSWORD | --password-stdin] REGISTRY` and `logout REGISTRY`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { removeCredentials, saveCredentials } from "../image/credentials.ts";
import { action, type CliContext, CliError, println } from "./context.ts";

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

async function login(this: CliContext, flags: LoginFlags, registry: string) {
  if (!flags.username) throw new CliError("login needs --username (-u)");
  let password = flags.password;
  if (flags.passwordStdin) {
    password = (await new Response(Deno.stdin.readable).text()).replace(/\r?\n$/, "");
  }
  if (!password) throw new CliError("login needs --password (-p) or --password-stdin");
  saveCredentials(this.engine.roots.root, registry, flags.username, password);
  println(this, "Login Succeeded");
  return 0;
}

/** The `login` command. */
export const loginCommand = buildCommand<LoginFlags, [string], CliContext>({
  func: action(login),
  parameters: {
    flags: {
      username: { kind: "parsed", parse: String, optional: true, brief: "Username" },
      password: { kind: "parsed", parse: String, optional: true, brief: "Password" },
      passwordStdin: { kind: "boolean", optional: true, brief: "Take the password from stdin" },
    },
    aliases: { u: "username", p: "password" },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Registry host[:port]", parse: String, placeholder: "SERVER" }],
    },
  },
  docs: { brief: "Store credentials for a registry (kept 0600 under the root)" },
});

/** The `logout` command. */
export const logoutCommand = buildCommand<Record<never, never>, [string], CliContext>({
  func: action(function (this: CliContext, _flags: Record<never, never>, registry: string) {
    const removed = removeCredentials(this.engine.roots.root, registry);
    println(
      this,
      removed ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`,
    );
    return 0;
  }),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Registry host[:port]", parse: String, placeholder: "SERVER" }],
    },
  },
  docs: { brief: "Forget the credentials for a registry" },
});
