import { VipdrillError } from '../errors.js';
import type { Engine } from '../lab/engine.js';
import { waitBooted, type LabContext } from '../lab/lab.js';
import type { Host } from './types.js';

/** The table vipdrill owns in each lab container for network faults; rules carry `comment "<fault id>"`. */
export const FAULT_TABLE = 'inet vipdrill';

export function container(lab: LabContext, h: Host): string {
  const c = lab.record.containers[h];
  if (!c) throw new VipdrillError('CONFIG_INVALID', `lab ${lab.record.name} has no host "${h}"`);
  return c;
}

/** The static addresses of a host (never the VIPs: they move). */
export function addressesOf(lab: LabContext, h: Host): string[] {
  const t = lab.topology;
  // behind a NAT router the nodes see the client at the router's wan address
  if (h === 'client') return t.client.nat ? [t.client.wan, t.client.nat.outside] : [t.client.wan];
  if (h === 'lanhost') return [t.lanhost.lan];
  const n = t.nodes[h]!;
  return [n.wan, n.lan];
}

/** Address of a host on one network (for interface lookup inside its container). */
export function addressOn(lab: LabContext, h: Host, net: 'wan' | 'lan'): string {
  const t = lab.topology;
  const a = h === 'client' ? (net === 'wan' ? t.client.wan : undefined) : h === 'lanhost' ? (net === 'lan' ? t.lanhost.lan : undefined) : t.nodes[h]![net];
  if (!a) throw new VipdrillError('CONFIG_INVALID', `${h} has no ${net} interface`);
  return a;
}

/** bash that sets $dev to the interface holding `addr` (interface names do not follow attach order). */
export function devOf(addr: string): string {
  return `dev=$(ip -o -4 addr show | awk -v a=${addr} '{ split($4, x, "/"); if (x[1] == a) { print $2; exit } }'); [ -n "$dev" ] || { echo "no interface with ${addr}" >&2; exit 3; }`;
}

/**
 * Run a bash script in a lab container and return the lab-clock time the action took effect: the last
 * `effective=<t>` line the script printed (after an atomic commit), else $EPOCHREALTIME taken inside the
 * lab just before the script. A non-zero exit is an error naming the script.
 */
export async function labSh(engine: Engine, c: string, script: string, what: string): Promise<number> {
  const r = await engine.exec(c, ['bash', '-c', `echo $EPOCHREALTIME\n${script}`]);
  if (r.exitCode !== 0) throw new VipdrillError('FAULT_FAILED', `${what} in ${c} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const effective = [...r.stdout.matchAll(/^effective=(\d+\.\d+)$/gm)].at(-1);
  return Number(effective ? effective[1] : r.stdout.split('\n')[0]);
}

/** The lab clock (seconds) read inside a running container. */
export async function labNow(engine: Engine, c: string): Promise<number> {
  const r = await engine.exec(c, ['bash', '-c', 'echo $EPOCHREALTIME']);
  return Number(r.stdout.trim());
}

/** ARP is not IP: a partition drops it in this table too, or the isolated node keeps answering for the VIP. */
export const ARP_FAULT_TABLE = 'arp vipdrill';

/**
 * bash adding `rules` (each "<chain> <match>", or "arp:<chain> <match>" for ARP) that drop, tagged with
 * the fault id, in one atomic nft transaction; then it prints `effective=<lab clock>`: the fault took
 * effect with that commit, which on a loaded lab can come seconds after the script started.
 */
export function nftAdd(id: string, rules: string[]): string {
  // an unquoted here-document: shell variables in matches ("$dev") expand
  return ['nft -f - <<NFT', ...nftLines(id, rules), 'NFT', 'echo "effective=$EPOCHREALTIME"'].join('\n');
}

/** The nft transaction of nftAdd, as `add` lines (what a host's agent applies with its nft-apply action). */
export function nftLines(id: string, rules: string[]): string[] {
  const arp = rules.some((r) => r.startsWith('arp:'));
  const lines = [
    `add table ${FAULT_TABLE}`,
    ...['input', 'output', 'forward'].map((ch) => `add chain ${FAULT_TABLE} ${ch} { type filter hook ${ch} priority -50; policy accept; }`),
    ...(arp ? [`add table ${ARP_FAULT_TABLE}`, ...['input', 'output'].map((ch) => `add chain ${ARP_FAULT_TABLE} ${ch} { type filter hook ${ch} priority -50; policy accept; }`)] : []),
    ...rules.map((r) => {
      const table = r.startsWith('arp:') ? ARP_FAULT_TABLE : FAULT_TABLE;
      const [chain, ...match] = r.replace(/^arp:/, '').split(' ');
      return `add rule ${table} ${chain} ${match.join(' ')} counter drop comment "${id}"`;
    }),
  ];
  return lines;
}

/** nft commands removing every rule of fault `id`, and the table once no fault rule is left. */
export function nftRemove(id: string): string {
  return [FAULT_TABLE, ARP_FAULT_TABLE]
    .map((table) =>
      [
        `if nft list table ${table} >/dev/null 2>&1; then`,
        `  for ch in input output forward; do`,
        `    for h in $(nft -a list chain ${table} $ch 2>/dev/null | awk '/comment "${id}"/ { print $NF }'); do nft delete rule ${table} $ch handle $h; done`,
        `  done`,
        `  nft -a list table ${table} | grep -q 'comment "' || nft delete table ${table}`,
        `fi`,
      ].join('\n'),
    )
    .join('\n');
}

/** Start a stopped/crashed container again, unpause a frozen one, and wait for its boot setup. */
export async function ensureRunning(engine: Engine, c: string): Promise<void> {
  const st = await engine.containerState(c);
  if (st === 'paused') await engine.unpauseContainer(c);
  else if (st !== 'running') {
    await engine.startContainer(c);
    await waitBooted(engine, c);
  }
}

/**
 * Undo every fault vipdrill can leave in one container, without knowing which were injected (for a
 * lab whose run was killed mid-fault): vipdrill's nft table, netem qdiscs, planted secrets, operator
 * priority, notify flags, daemons left dead. Idempotent; returns what it undid.
 */
export const HEAL_ALL_SCRIPT = [
  'out=""',
  `if nft list table ${FAULT_TABLE} >/dev/null 2>&1; then nft delete table ${FAULT_TABLE}; out="$out nft-table"; fi`,
  `if nft list table ${ARP_FAULT_TABLE} >/dev/null 2>&1; then nft delete table ${ARP_FAULT_TABLE}; out="$out nft-arp-table"; fi`,
  'for d in $(ls /sys/class/net); do tc qdisc show dev "$d" 2>/dev/null | grep -q netem && tc qdisc del dev "$d" root && out="$out netem:$d"; done',
  'for f in /etc/ppp/chap-secrets /etc/swanctl/conf.d/vipdrill.conf; do if [ -e "$f.vipdrill-orig" ]; then cp -p "$f.vipdrill-orig" "$f" && rm -f "$f.vipdrill-orig"; out="$out secret:$f"; [ "${f#/etc/swanctl}" != "$f" ] && swanctl --load-creds >/dev/null 2>&1; fi; done',
  'if [ -s /run/vipdrill/operator-priority ] && [ "$(cat /run/vipdrill/operator-priority)" != 0 ]; then echo 0 > /run/vipdrill/operator-priority; out="$out operator-priority"; fi',
  'for f in notify-fail notify-twice; do if [ -e /run/vipdrill/$f ]; then rm -f /run/vipdrill/$f; out="$out $f"; [ -r /run/vipdrill/vrrp.state ] && /usr/local/sbin/vipdrill-notify "$(cat /run/vipdrill/vrrp.state)"; fi; done',
  'for w in /run/vipdrill/daemons/*.want; do [ -e "$w" ] || continue; if [ "$(cat "$w")" = down ]; then n=$(basename "$w" .want); vipdrill-ctl start "$n"; out="$out started:$n"; fi; done',
  'for d in $(ls /sys/class/net); do if [ "$d" != lo ] && ! ip link show dev "$d" | grep -q "[<,]UP[,>]"; then ip link set dev "$d" up && out="$out link:$d"; fi; done',
  'echo "$out"',
].join('\n');

/**
 * `vipdrill heal`: first the reverts of the faults a killed run journalled (the runner's own revert code),
 * then every container running again and swept free of vipdrill's faults; returns what was undone per host
 * (`journal` lists the replayed reverts).
 */
export async function healLab(engine: Engine, lab: LabContext): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const { revertJournal } = await import('./journal.js');
  const j = await revertJournal(engine, lab);
  if (j.reverted.length > 0 || j.errors.length > 0) out.journal = [...j.reverted, ...j.errors];
  for (const [h, c] of Object.entries(lab.record.containers)) {
    const before = await engine.containerState(c);
    await ensureRunning(engine, c);
    const r = await engine.exec(c, ['bash', '-c', HEAL_ALL_SCRIPT]);
    if (r.exitCode !== 0) throw new VipdrillError('FAULT_FAILED', `heal of ${h} failed: ${r.stderr.trim()}`);
    const undone = r.stdout.trim().split(/\s+/).filter(Boolean);
    if (before !== 'running') undone.unshift(`container:${before ?? 'missing'}`);
    // hosts whose boot setup is routes only get it again (a node's would reset its MASTER forwarding)
    if (!(h in lab.topology.nodes)) await engine.exec(c, ['bash', '/etc/vipdrill/boot.sh']);
    out[h] = undone;
  }
  return out;
}
