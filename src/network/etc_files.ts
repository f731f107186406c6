/**
 * The /etc/hosts and /etc/resolv.conf a container gets, rendered from plain data, as Docker
 * writes them: localhost entries, the container's own address and name, `--add-host`
 * entries, and on a user network every other member by name and alias (m-docker keeps these
 * files current instead of running a DNS server); the host's resolver settings with
 * loopback name servers dropped, or `--dns`, `--dns-search` and `--dns-option`.
 *
 * @module
 */

/** One line of /etc/hosts: an address and the names it answers to. */
export interface HostsEntry {
  ip: string;
  names: string[];
}

/** What a container's /etc/hosts says. */
export interface HostsInput {
  hostname: string;
  /** Its address on its first network; absent without one (`none`). */
  ownIp?: string;
  /** Names on that network besides its hostname (its name, aliases). */
  ownNames?: string[];
  extraHosts: HostsEntry[];
  /** The other members of its user networks. */
  members: HostsEntry[];
}

/**
 * Renders /etc/hosts.
 *
 * @example
 * ```ts
 * renderHosts({ hostname: "web", ownIp: "172.18.0.2", extraHosts: [], members: [] });
 * ```
 */
export function renderHosts(h: HostsInput): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const e of h.extraHosts) lines.push(`${e.ip}\t${e.names.join(" ")}`);
  if (h.ownIp) {
    const names = [h.hostname, ...(h.ownNames ?? []).filter((n) => n !== h.hostname)];
    lines.push(`${h.ownIp}\t${names.join(" ")}`);
  } else {
    lines.push(`127.0.1.1\t${h.hostname}`);
  }
  for (const m of h.members) lines.push(`${m.ip}\t${m.names.join(" ")}`);
  return lines.join("\n") + "\n";
}

/** What a container's resolver is told beyond the host's settings. */
export interface ResolverInput {
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

/** Google's resolvers: what Docker falls back to when the host's are all loopback ones. */
const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

/**
 * Renders /etc/resolv.conf from the host's: `--dns` replaces its name servers,
 * `--dns-search` its search list, `--dns-option` its options. Loopback name servers cannot
 * be reached from a container's own network namespace: they are dropped, and when none is
 * left Docker's fallback is used. `keepLoopback` (the host's own network) keeps them.
 */
export function renderResolvConf(
  host: string,
  r: ResolverInput,
  opts: { keepLoopback?: boolean } = {},
): string {
  const lines = host.split("\n");
  const field = (name: string) =>
    lines.filter((l) => new RegExp(`^\\s*${name}\\s`).test(l)).map((l) =>
      l.trim().split(/\s+/).slice(1)
    );
  let servers = field("nameserver").map((f) => f[0]).filter((s) => s);
  if (!opts.keepLoopback) servers = servers.filter((s) => !/^(127\.|::1$)/.test(s));
  if (r.dns.length > 0) servers = r.dns;
  else if (servers.length === 0 && !opts.keepLoopback) servers = FALLBACK_NAMESERVERS;
  const search = r.dnsSearch.length > 0 ? r.dnsSearch : field("search").flat();
  const options = r.dnsOptions.length > 0 ? r.dnsOptions : field("options").flat();
  const out = servers.map((s) => `nameserver ${s}`);
  if (search.length > 0) out.push(`search ${search.join(" ")}`);
  if (options.length > 0) out.push(`options ${options.join(" ")}`);
  return out.join("\n") + "\n";
}
