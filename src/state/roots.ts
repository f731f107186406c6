/**
 * Where m-docker keeps things on the host. Both roots can be moved (flags or environment)
 * so that tests run in temporary directories and never touch a user's real containers.
 *
 * @module
 */

/** The two directories everything lives under. */
export interface Roots {
  /** Persistent data: images, layers, containers' read-write layers and logs. */
  root: string;
  /** Runtime state: one directory per container (tmpfs in a normal install). */
  state: string;
}

/** Roots from the environment (`M_DOCKER_ROOT`, `M_DOCKER_STATE`) or Docker-like defaults. */
export function defaultRoots(): Roots {
  return {
    root: Deno.env.get("M_DOCKER_ROOT") || "/var/lib/m-docker",
    state: Deno.env.get("M_DOCKER_STATE") || "/run/m-docker",
  };
}

/** The directory holding one container's rw layer, generated /etc files and log. */
export function containerDir(roots: Roots, id: string): string {
  return `${roots.root}/containers/${id}`;
}

/** The network table's directory: networks, and the addresses and ports containers hold. */
export function networkDir(roots: Roots): string {
  return `${roots.root}/network`;
}

/** The generated /etc files of a container, by their place in its directory. */
export function etcFiles(dir: string): { hostname: string; hosts: string; resolvConf: string } {
  return { hostname: `${dir}/hostname`, hosts: `${dir}/hosts`, resolvConf: `${dir}/resolv.conf` };
}

/**
 * Makes the data root if it is missing, as Docker's: the root 0710, `containers/` 0700.
 * An existing root that its group or others can write is refused: whoever can write there
 * can plant a layer or a container's files that root will mount and run.
 */
export function ensureDataRoot(root: string): void {
  let mode: number | null = null;
  try {
    mode = Deno.statSync(root).mode;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (mode === null) {
    Deno.mkdirSync(root, { recursive: true, mode: 0o710 });
    Deno.chmodSync(root, 0o710); // not narrowed by the umask either way
  } else if ((mode & 0o022) !== 0) {
    throw new Error(
      `the data root ${root} is writable by its group or others (mode ${
        (mode & 0o7777).toString(8).padStart(4, "0")
      }): refusing to use it; make it 0710 (chmod 0710 ${root})`,
    );
  }
  try {
    Deno.mkdirSync(`${root}/containers`, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}
