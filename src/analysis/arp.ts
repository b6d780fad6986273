
/**
 * ARP claims for the VIP as the client's segment sees them: tcpdump in the client records gratuitous
 * ARPs and replies for the VIP with their source MAC (lab clock). Two nodes claiming the VIP in turn,
 * again and again (A, B, A, B within 30 s: keepalived refreshes its GARPs every 10 s), or both answering
 * one request, is a split brain seen from the wire.
 */

export interface ArpClaim {
  t: number;
  mac: string;
  node?: string;
  kind: 'garp' | 'reply';
}

export interface ArpReport {
  claims: ArpClaim[];
  duplicate: boolean;
  detail: string;
  /** the client's own ARP entry for the VIP as the samples read it, each change once: whom it sent the VIP's packets to */
  neighbour?: NeighbourEntry[];
}

/** The client's ARP entry for an address as its agent read it. */
export interface NeighbourReading {
  mac: string | null;
  state: string[];
}

export interface NeighbourEntry {
  t: number;
  /** null: no entry */
  mac: string | null;
  /** the node whose wan MAC it is */
  node?: string;
  state: string[];
}

/** The client's ARP entries for the VIP from the tunnel samples that read them, kept where the MAC or state changed. */
export function neighbourEntries(samples: { t: number; up?: boolean; neigh?: NeighbourReading | null }[], macs: Record<string, string>): { neighbour?: NeighbourEntry[] } {
  const byMac = new Map(Object.entries(macs).map(([n, m]) => [m.toLowerCase(), n]));
  const out: NeighbourEntry[] = [];
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    if (s.neigh === undefined) continue;
    const mac = s.neigh?.mac?.toLowerCase() ?? null;
    const state = s.neigh?.state ?? [];
    const last = out.at(-1);
    if (last && last.mac === mac && last.state.join() === state.join()) continue;
    const node = mac ? byMac.get(mac) : undefined;
    out.push({ t: s.t, mac, ...(node ? { node } : {}), state });
  }
  return out.length > 0 ? { neighbour: out } : {};
}

/** tcpdump -e -tt lines: `<t> <src mac> > <dst mac>, ethertype ARP …: Request who-has V tell V` / `Reply V is-at M`. */
export function parseArp(text: string, vip: string, macs: Record<string, string>): ArpReport {
  const byMac = new Map(Object.entries(macs).map(([n, m]) => [m.toLowerCase(), n]));
  const claims: ArpClaim[] = [];
  const v = vip.replace(/\./g, '\\.');
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) ([0-9a-f:]{17}) >/.exec(line);
    if (!m) continue;
    const garp = new RegExp(`Request who-has ${v}(?: \\([0-9a-f:]+\\))? tell ${v}[ ,]`).test(line);
    const reply = new RegExp(`Reply ${v} is-at ([0-9a-f:]{17})`).exec(line);
    if (!garp && !reply) continue;
    const mac = (reply ? reply[1]! : m[2]!).toLowerCase();
    claims.push({ t: Number(m[1]), mac, ...(byMac.has(mac) ? { node: byMac.get(mac)! } : {}), kind: garp ? 'garp' : 'reply' });
  }
  claims.sort((a, b) => a.t - b.t);
  // runs of claims by the same MAC; a switch is a claim by another MAC than the previous one
  const switches: number[] = [];
  for (let i = 1; i < claims.length; i++) if (claims[i]!.mac !== claims[i - 1]!.mac) switches.push(claims[i]!.t);
  const alternating = switches.some((t, i) => i >= 2 && t - switches[i - 2]! <= 30);
  const replies = claims.filter((c) => c.kind === 'reply');
  const twoAnswers = replies.some((r, i) => i > 0 && r.mac !== replies[i - 1]!.mac && r.t - replies[i - 1]!.t < 0.05);
  const who = (mac: string) => byMac.get(mac) ?? mac;
  const detail = claims.length === 0
    ? 'no ARP claim for the VIP seen'
    : alternating
      ? `the VIP was claimed in turn by ${[...new Set(claims.map((c) => who(c.mac)))].join(' and ')} (${switches.length} switches)`
      : twoAnswers
        ? 'two MACs answered one ARP request for the VIP'
        : `${claims.length} claims, ${switches.length} switch(es) of owner: a handover, not a conflict`;
  return { claims, duplicate: alternating || twoAnswers, detail };
}
