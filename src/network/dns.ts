/**
 * Just enough DNS for m-docker's embedded resolver (127.0.0.11 in containers on user
 * networks, as Docker's): read a query's ID, name and type; answer an A query; say
 * NXDOMAIN; and swap IDs when a query is relayed to the host's resolvers. Pure functions.
 *
 * @module
 */

/** The question of a DNS query. */
export interface DnsQuestion {
  id: number;
  /** Lower-cased, without the trailing dot. */
  name: string;
  /** 1 = A, 28 = AAAA, ... */
  type: number;
  /** Where the question section ends (its bytes are echoed in answers). */
  end: number;
}

/** Reads a query's question; null for anything that is not one query we can parse. */
export function parseQuery(msg: Uint8Array): DnsQuestion | null {
  if (msg.length < 17 || (msg[2] & 0x80) !== 0) return null; // short, or a response
  const qdcount = (msg[4] << 8) | msg[5];
  if (qdcount !== 1) return null;
  const labels: string[] = [];
  let off = 12;
  while (off < msg.length && msg[off] !== 0) {
    const len = msg[off];
    if (len > 63 || off + 1 + len > msg.length) return null; // no compression in questions
    labels.push(new TextDecoder().decode(msg.subarray(off + 1, off + 1 + len)));
    off += len + 1;
  }
  if (off + 5 > msg.length) return null;
  const type = (msg[off + 1] << 8) | msg[off + 2];
  return { id: (msg[0] << 8) | msg[1], name: labels.join(".").toLowerCase(), type, end: off + 5 };
}

/**
 * The response to `query`: A records for `ips` (an A query), or no answers (another type
 * for a name we know, as Docker's server does for AAAA), or NXDOMAIN when `ips` is null.
 */
export function answer(
  query: Uint8Array,
  q: DnsQuestion,
  ips: string[] | null,
): Uint8Array<ArrayBuffer> {
  const records = ips && q.type === 1 ? ips : [];
  const out = new Uint8Array(q.end + records.length * 16);
  out.set(query.subarray(0, q.end));
  out[2] = 0x80 | 0x04 | (query[2] & 0x01); // QR, AA, RD as asked
  out[3] = 0x80 | (ips === null ? 3 : 0); // RA; NXDOMAIN
  out[6] = 0, out[7] = records.length; // ANCOUNT
  out[8] =
    out[9] =
    out[10] =
    out[11] =
      0; // no NS or additional records
  let off = q.end;
  for (const ip of records) {
    // name: a pointer to the question's; type A; class IN; TTL 600; 4 bytes of address
    out.set([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, ...ip.split(".").map(Number)], off);
    off += 16;
  }
  return out;
}

/** A copy of `msg` with its ID replaced (relaying a query upstream, or its answer back). */
export function withId(msg: Uint8Array, id: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(msg);
  out[0] = id >> 8;
  out[1] = id & 0xff;
  return out;
}

/** The ID of a DNS message. */
export function messageId(msg: Uint8Array): number {
  return (msg[0] << 8) | msg[1];
}
