import { readInputFile } from '../util/input.js';
import type { LoadedTopology } from '../topology/load.js';
import type { Topology } from '../topology/schema.js';
import { BYO_PATHS, type ContainerConfig } from './render.js';
import type { Ifaces } from './types.js';

/**
 * Bring your own config: a topology's `config:` names the user's production files for the nodes.
 * Paths may contain {node} (e.g. keepalived-{node}.conf) for per-node files. Inside the files these
 * placeholders are substituted: {{wan_if}} {{lan_if}} {{node_wan}} {{node_lan}} {{peer_wan}}
 * {{vip_wan}} {{vip_lan}} {{priority}}.
 */
export type ByoKey = keyof typeof BYO_PATHS;

export function byoPath(template: string, node: string): string {
  return template.replaceAll('{node}', node);
}

export function substitute(text: string, node: string, ifaces: Ifaces, t: Topology): string {
  const me = t.nodes[node]!;
  const peer = Object.entries(t.nodes).find(([n]) => n !== node)![1];
  const vars: Record<string, string> = {
    wan_if: ifaces.wan ?? '',
    lan_if: ifaces.lan ?? '',
    node_wan: me.wan,
    node_lan: me.lan,
    peer_wan: peer.wan,
    vip_wan: t.vips.wan,
    vip_lan: t.vips.lan,
    priority: String(me.priority),
  };
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (m, k: string) => vars[k] ?? m);
}

export function byoFiles(loaded: LoadedTopology): { keys: ByoKey[]; apply: (cfg: ContainerConfig, node: string, ifaces: Ifaces, t: Topology) => ContainerConfig } {
  const entries = Object.entries(loaded.configFiles) as [ByoKey, string][];
  return {
    keys: entries.map(([k]) => k),
    apply(cfg, node, ifaces, t) {
      if (entries.length === 0) return cfg;
      const files = cfg.files.map((f) => {
        const hit = entries.find(([k]) => BYO_PATHS[k] === f.path);
        if (!hit) return f;
        return { ...f, content: substitute(readInputFile(byoPath(hit[1], node)), node, ifaces, t), byo: true };
      });
      return { ...cfg, files };
    },
  };
}

interface Security {
  psk: string[];
  chap: string[];
  proposals: string[];
  pool: string[];
}

function linesMatching(text: string, re: RegExp): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('#') && !l.startsWith(';'))
    .map((l) => re.exec(l)?.[1]?.trim())
    .filter((x): x is string => !!x)
    .sort();
}

export function extractSecurity(cfg: ContainerConfig): Security {
  const file = (p: string) => cfg.files.find((f) => f.path === p)?.content ?? '';
  const swan = file(BYO_PATHS.swanctl);
  return {
    psk: [...linesMatching(swan, /^secret\s*=\s*(.+)$/), ...linesMatching(swan, /:\s*PSK\s+(.+)$/)],
    chap: linesMatching(file(BYO_PATHS.chapSecrets), /^(\S.*)$/).map((l) => l.replace(/\s+/g, ' ')),
    proposals: [...linesMatching(swan, /^((?:esp_)?proposals\s*=\s*.+)$/), ...linesMatching(swan, /^((?:ike|esp)\s*=\s*.+)$/)],
    pool: [...linesMatching(file(BYO_PATHS.xl2tpd), /^(ip range\s*=\s*.+)$/), ...linesMatching(file(BYO_PATHS.xl2tpd), /^(local ip\s*=\s*.+)$/)],
  };
}

/**
 * Mis-synced secrets break authentication after a failover (the seed article's warning). Compare the
 * two nodes' security material and policies; the warnings never contain the secrets themselves.
 */
export function compareByoSecurity(configs: Record<string, ContainerConfig>, nodes: string[]): string[] {
  const [a, b] = nodes;
  if (!a || !b) return [];
  const sa = extractSecurity(configs[a]!);
  const sb = extractSecurity(configs[b]!);
  const out: string[] = [];
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(sa.psk, sb.psk)) out.push(`the IPsec PSK differs between nodes ${a} and ${b}: clients will fail IKE authentication after a failover`);
  if (!same(sa.chap, sb.chap)) out.push(`chap-secrets differ between nodes ${a} and ${b}: PPP authentication will fail after a failover`);
  if (!same(sa.proposals, sb.proposals)) out.push(`IKE/ESP proposals differ between nodes ${a} (${sa.proposals.join('; ') || 'none'}) and ${b} (${sb.proposals.join('; ') || 'none'})`);
  if (!same(sa.pool, sb.pool)) out.push(`L2TP address pools differ between nodes ${a} (${sa.pool.join('; ') || 'none'}) and ${b} (${sb.pool.join('; ') || 'none'})`);
  return out;
}
