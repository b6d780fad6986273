/**
 * Writes test/fixtures/malformed/: malformed inputs of every class vipdrill reads (scenario, topology and
 * profile files, run folders), and cases.json, what test/unit/malformed.test.ts runs on each. Run it
 * again after changing a case: npm run build && node dist/test/make-malformed-corpus.js
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './helpers.js';

interface Case {
  class: string;
  file: string;
  cmd: 'validate' | 'report';
  expect: string;
}
type Content = string | Buffer | undefined;

const root = join(repoRoot, 'test', 'fixtures', 'malformed');
rmSync(root, { recursive: true, force: true });
const cases: Case[] = [];
const put = (rel: string, content: string | Buffer) => {
  const f = join(root, rel);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, content);
};
/** one case: a file (or folder) under the corpus, its class, the command that reads it, and what the message must say */
const add = (cls: string, rel: string, content: Content, expect: string, cmd: Case['cmd'] = 'validate') => {
  if (content !== undefined) put(rel, content);
  cases.push({ class: cls, file: rel, cmd, expect });
};

const scenario = (over: { name?: string; description?: string; extra?: string[]; steps?: string[]; expect?: string[] } = {}, expect: Record<string, string> = {}) =>
  [
    `name: ${over.name ?? 'bad-case'}`,
    `description: ${over.description ?? 'a malformed case'}`,
    ...(over.extra ?? []),
    'steps:',
    ...(over.steps ?? ['  - fault: node-crash', '    target: master', '    for: until-healed', '  - wait: vip-moved', '    within: 10s', '  - heal: all']),
    'expect:',
    ...(over.expect ?? ['  vipMoved: true']),
    ...Object.entries(expect).map(([k, v]) => `  ${k}: ${v}`),
    '',
  ].join('\n');
const S = (f: string) => `scenario/${f}.yaml`;
const T = (f: string) => `topology/${f}.yaml`;
const P = (f: string) => `profile/${f}.yaml`;

// --- YAML syntax ---
add('yaml-syntax', S('unclosed-quote'), 'name: "bad\ndescription: x\nsteps: []\n', 'invalid YAML at line');
add('yaml-syntax', S('bad-indent'), 'name: bad\n  description: x\nsteps: []\n', 'invalid YAML');
add('yaml-syntax', S('tab-indent'), 'name: bad\nsteps:\n\t- fault: node-crash\n', 'invalid YAML');
add('yaml-syntax', S('duplicate-key'), 'name: bad\nname: again\ndescription: x\nsteps: []\n', 'invalid YAML');
add('yaml-syntax', S('unclosed-bracket'), 'name: bad\ndescription: x\nsteps: [ { fault: node-crash\n', 'invalid YAML');
add('yaml-syntax', S('two-documents'), scenario() + '---\nname: second\n', 'invalid YAML');
add('yaml-syntax', S('empty'), '', 'expected a mapping');
add('yaml-syntax', S('only-comment'), '# nothing here\n', 'expected a mapping');
add('yaml-syntax', T('unclosed-brace'), 'name: t\nnodes: { a: { wan: 10.213.1.11\n', 'invalid YAML');

// --- YAML limits ---
const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
add('yaml-limits', S('alias-bomb'), `${bomb.join('\n')}\nname: bomb\ndescription: x\nsteps: []\n`, 'too many YAML aliases');
add('yaml-limits', T('alias-bomb'), `${bomb.join('\n')}\nname: t\nnodes: {}\n`, 'too many YAML aliases');
add('yaml-limits', S('deep-list'), `name: deep\ndescription: x\nsteps: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'nested too deeply');
add('yaml-limits', S('deep-map'), `name: deep\ndescription: x\nsteps:\n  - ${'{a: '.repeat(200)}1${'}'.repeat(200)}\n`, 'nested too deeply');
add('yaml-limits', T('deep-map'), `name: t\nnodes: ${'{a: '.repeat(300)}1${'}'.repeat(300)}\n`, 'nested too deeply');
add('yaml-limits', S('many-steps'), `name: many\ndescription: x\nsteps:\n${'  - sleep: 1ms\n'.repeat(2000)}`, 'steps: expected at most 1000 steps');

// --- encodings ---
add('encoding', S('latin1'), Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\ndescription: x\nsteps: []\n')]), 'not UTF-8: the first invalid byte is at offset 9');
add('encoding', S('utf16'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name: x\n', 'utf16le')]), 'not UTF-8: the first invalid byte is at offset 0');
add('encoding', S('binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0x00]), 'not UTF-8');
add('encoding', S('truncated-utf8'), Buffer.concat([Buffer.from('name: x\ndescription: caf'), Buffer.from([0xc3])]), 'not UTF-8: the first invalid byte is at offset 24');
add('encoding', T('latin1'), Buffer.concat([Buffer.from('name: t\n# r'), Buffer.from([0xe9]), Buffer.from('seau\n')]), 'not UTF-8: the first invalid byte is at offset 11');

// --- scenario structure ---
add('scenario-structure', S('a-list'), '- fault: node-crash\n', 'expected a mapping (key: value lines) at the top level, got a list');
add('scenario-structure', S('a-scalar'), 'just words\n', 'expected a mapping');
add('scenario-structure', S('missing-name'), scenario().replace('name: bad-case\n', ''), 'name');
add('scenario-structure', S('missing-description'), scenario().replace('description: a malformed case\n', ''), 'description');
add('scenario-structure', S('missing-steps'), 'name: x\ndescription: y\n', 'steps');
add('scenario-structure', S('empty-steps'), 'name: x\ndescription: y\nsteps: []\n', 'expected at least one step');
add('scenario-structure', S('steps-not-list'), 'name: x\ndescription: y\nsteps: crash it\n', 'expected a list of steps');
add('scenario-structure', S('unknown-top-key'), scenario({ extra: ['stpes: []'] }), 'unknown key "stpes"');
add('scenario-structure', S('unknown-step-key'), scenario({ steps: ['  - fault: node-crash', '    target: master', '    for: until-healed', '    tagret: master'] }), 'tagret');
add('scenario-structure', S('unknown-fault'), scenario({ steps: ['  - fault: node-explode', '    target: master'] }), 'steps[0]');
add('scenario-structure', S('unknown-wait'), scenario({ steps: ['  - fault: node-crash', '    target: master', '    for: until-healed', '  - wait: vip-exploded', '    within: 1s'] }), 'steps[1]');
add('scenario-structure', S('repeat-word'), scenario({ extra: ['repeat: many'] }), 'repeat');
add('scenario-structure', S('repeat-zero'), scenario({ extra: ['repeat: 0'] }), 'repeat');
add('scenario-structure', S('repeat-huge'), scenario({ extra: ['repeat: 100000'] }), 'repeat');
add('scenario-structure', S('name-uppercase'), scenario({ name: 'NodeCrash' }), 'name: expected a name of lowercase letters');
add('scenario-structure', S('name-slash'), scenario({ name: '../../x' }), 'name: expected a name of lowercase letters');
add('scenario-structure', S('name-5000'), scenario({ name: 'x'.repeat(5000) }), 'name: expected a name of at most 64 characters');
add('scenario-structure', S('bad-duration'), scenario({ steps: ['  - sleep: 10 parsecs'] }), 'steps[0]');
add('scenario-structure', S('negative-duration'), scenario({ steps: ['  - fault: node-crash', '    target: master', '    for: -5s'] }), 'steps[0]');
add('scenario-structure', S('huge-duration'), scenario({ steps: ['  - sleep: 100000000s'] }), 'steps[0]');
add('scenario-structure', S('expect-not-map'), scenario({ expect: ['  - vipMoved'] }), 'expect');
add('scenario-structure', S('expect-unknown'), scenario({ expect: ['  vipMovd: true'] }), 'vipMovd');
add('scenario-structure', S('null-step'), scenario({ steps: ['  - null'] }), 'steps[0]: expected a step');

// --- scenario semantics ---
add('scenario-semantic', S('outage-min-over-max'), scenario({ expect: ['  outage: { min: 10s, max: 1s }'] }), 'expected min ≤ max');
add('scenario-semantic', S('vipmoved-false-takeover'), scenario({ expect: ['  vipMoved: false', '  vipTakeover: { max: 2s }'] }), 'contradicts vipMoved: false');
add('scenario-semantic', S('calm-with-fault'), scenario({ expect: ['  calibrate: calm'] }), 'calibrate: calm measures a lab with no fault');
add('scenario-semantic', S('calibrate-outage-no-fault'), scenario({ steps: ['  - sleep: 1s'], expect: ['  calibrate: outage'] }), 'needs a fault to measure');
add('scenario-semantic', S('takeover-no-fault'), scenario({ steps: ['  - sleep: 1s'], expect: ['  calibrate: calm', '  vipTakeover: { max: 1s }'] }), 'count from the first fault');
add('scenario-semantic', S('target-not-a-node'), scenario({ steps: ['  - fault: node-crash', '    target: c', '    for: until-healed'] }), 'steps[0].target: expected a node or a role of topology "vipdrill"');
add('scenario-semantic', S('crash-the-lanhost'), scenario({ steps: ['  - fault: node-crash', '    target: lanhost', '    for: until-healed'] }), 'steps[0].target');
add('scenario-semantic', S('heal-unknown-id'), scenario({ steps: ['  - fault: node-crash', '    target: master', '    for: until-healed', '    id: one', '  - heal: two'] }), 'no earlier fault step has id "two"');
add('scenario-semantic', S('duplicate-id'), scenario({ steps: ['  - fault: node-crash', '    target: master', '    for: 1s', '    id: one', '  - fault: node-crash', '    target: backup', '    for: 1s', '    id: one'] }), 'duplicate id "one"');
add('scenario-semantic', S('drop-to-itself'), scenario({ steps: ['  - fault: drop', '    from: client', '    to: client', '    for: 1s'] }), 'from and to are both client');
add('scenario-semantic', S('flap-until-healed'), scenario({ steps: ['  - fault: link-down', '    target: master', '    iface: wan', '    for: until-healed', '    flap: { times: 3, every: 2s }'] }), 'steps[0]');
add('scenario-semantic', S('degrade-nothing'), scenario({ steps: ['  - fault: degrade', '    target: master', '    iface: wan', '    for: 1s'] }), 'steps[0]');
add('scenario-semantic', S('pppd-left-dead'), scenario({ steps: ['  - fault: kill-daemon', '    target: master', '    daemon: pppd', '    signal: KILL', '    restart: false', '    for: 1s'] }), 'steps[0].restart');
add('scenario-semantic', S('final-holder-unknown'), scenario({ expect: ['  finalHolder: zed'] }), 'expect.finalHolder');
add('scenario-semantic', S('topology-missing'), scenario({ extra: ['topology: no-such-topology'] }), 'topology');
add('scenario-semantic', S('profile-missing'), scenario({ extra: ['profile: turbo'] }), 'no profile named "turbo"');
add('scenario-semantic', S('profile-passwd'), scenario({ extra: ['profile: /etc/passwd'] }), 'profile');
add('scenario-semantic', S('targets-a-on-xy'), scenario({ extra: ['topology: test/fixtures/malformed/topology-ok/nodes-xy.yaml'], steps: ['  - fault: node-crash', '    target: a', '    for: until-healed'] }), 'steps[0].target: expected a node or a role of topology "xy" (x, y, master, backup), got "a"');
put('topology-ok/nodes-xy.yaml', 'name: xy\nprofile: fast\nnetworks:\n  wan: { subnet: 10.213.1.0/24 }\n  lan: { subnet: 10.213.2.0/24 }\nvips: { wan: 10.213.1.100, lan: 10.213.2.100 }\npool: { subnet: 10.213.3.0/24, local: 10.213.3.1, first: 10.213.3.10, last: 10.213.3.50 }\nnodes:\n  x: { wan: 10.213.1.11, lan: 10.213.2.11, priority: 150 }\n  y: { wan: 10.213.1.12, lan: 10.213.2.12, priority: 100 }\nclient: { wan: 10.213.1.50 }\nlanhost: { lan: 10.213.2.50 }\n');

// --- topologies ---
const topo = (over: Record<string, string | number | string[]> = {}) => {
  const t = {
    name: 'bad-topo', profile: 'fast', wan: '10.213.1.0/24', lan: '10.213.2.0/24', vipWan: '10.213.1.100', vipLan: '10.213.2.100',
    pool: '10.213.3.0/24', local: '10.213.3.1', first: '10.213.3.10', last: '10.213.3.50',
    n1: 'a', n2: 'b', a: '10.213.1.11', al: '10.213.2.11', b: '10.213.1.12', bl: '10.213.2.12', pa: 150, pb: 100, client: '10.213.1.50', lanhost: '10.213.2.50', extra: [], ...over,
  };
  return [
    `name: ${t.name}`, `profile: ${t.profile}`, 'networks:', `  wan: { subnet: ${t.wan} }`, `  lan: { subnet: ${t.lan} }`, `vips: { wan: ${t.vipWan}, lan: ${t.vipLan} }`,
    `pool: { subnet: ${t.pool}, local: ${t.local}, first: ${t.first}, last: ${t.last} }`, 'nodes:', `  ${t.n1}: { wan: ${t.a}, lan: ${t.al}, priority: ${t.pa} }`, `  ${t.n2}: { wan: ${t.b}, lan: ${t.bl}, priority: ${t.pb} }`,
    `client: { wan: ${t.client} }`, `lanhost: { lan: ${t.lanhost} }`, ...t.extra, '',
  ].join('\n');
};
add('topology', T('nodes-master-backup'), topo({ n1: 'master', n2: 'backup' }), 'not role words');
add('topology', T('node-named-client'), topo({ n1: 'client' }), 'nodes');
add('topology', T('loopback-subnet'), topo({ wan: '127.0.0.0/24', vipWan: '127.0.0.100', a: '127.0.0.11', b: '127.0.0.12', client: '127.0.0.50' }), 'overlaps 127.0.0.0/8 (loopback)');
add('topology', T('multicast-subnet'), topo({ lan: '224.0.0.0/24', vipLan: '224.0.0.100', al: '224.0.0.11', bl: '224.0.0.12', lanhost: '224.0.0.50' }), 'overlaps 224.0.0.0/4 (multicast)');
add('topology', T('zero-subnet'), topo({ pool: '0.0.0.0/8', local: '0.0.0.1', first: '0.0.0.10', last: '0.0.0.50' }), 'overlaps 0.0.0.0/8');
add('topology', T('link-local-subnet'), topo({ wan: '169.254.1.0/24', vipWan: '169.254.1.100', a: '169.254.1.11', b: '169.254.1.12', client: '169.254.1.50' }), 'overlaps 169.254.0.0/16 (link-local)');
add('topology', T('documentation-subnet'), topo({ wan: '192.0.2.0/24', vipWan: '192.0.2.100', a: '192.0.2.11', b: '192.0.2.12', client: '192.0.2.50' }), 'documentation range 192.0.2.0/24');
add('topology', T('vip-outside'), topo({ vipWan: '10.213.9.100' }), 'vips.wan: 10.213.9.100 is outside');
add('topology', T('duplicate-address'), topo({ b: '10.213.1.11' }), 'already used by');
add('topology', T('equal-priorities'), topo({ pb: 150 }), 'both nodes have priority 150');
add('topology', T('pool-reversed'), topo({ first: '10.213.3.50', last: '10.213.3.10' }), 'pool.last');
add('topology', T('overlapping-subnets'), topo({ lan: '10.213.1.0/24', vipLan: '10.213.1.101', al: '10.213.1.21', bl: '10.213.1.22', lanhost: '10.213.1.60' }), 'overlaps networks.wan.subnet');
add('topology', T('profile-turbo'), topo({ profile: 'turbo' }), 'no profile named "turbo" under lab/profiles/');
add('topology', T('profile-passwd'), topo({ profile: '/etc/passwd' }), 'no profile named "/etc/passwd" under lab/profiles/');
add('topology', T('bad-cidr'), topo({ wan: '10.213.1.0/33' }), 'networks.wan.subnet');
add('topology', T('bad-ip'), topo({ a: '10.213.1.999' }), 'nodes.a.wan');
add('topology', T('missing-nodes'), 'name: t\nprofile: fast\nnetworks:\n  wan: { subnet: 10.213.1.0/24 }\n', 'nodes');
add('topology', T('unknown-key'), topo({ extra: ['noodles: 2'] }), 'unknown key "noodles"');
add('topology', T('name-bad'), topo({ name: '"../x"' }), 'name');
add('topology', T('byo-missing'), topo({ extra: ['config:', '  keepalived: no-such-keepalived.conf'] }), 'config.keepalived');
add('topology', T('priority-word'), topo({ pa: 'high' }), 'nodes.a.priority');
add('topology', T('three-nodes'), topo({ extra: [] }).replace('  b: {', '  c: { wan: 10.213.1.13, lan: 10.213.2.13, priority: 50 }\n  b: {'), 'nodes');

// --- profiles ---
const prof = (over: { vrrp?: string; dpdDelay?: number; dpdTimeout?: number; mtu?: number | string; extra?: string } = {}) => `name: bad-profile\ndescription: x\nvrrp: ${over.vrrp ?? '{ version: 3, advertInt: 0.3, preempt: true, preemptDelay: 0, auth: null }'}\nhealth: { interval: 1, fall: 2, rise: 2, weight: 0 }\nike: { proposal: aes128-sha256-modp2048, espProposal: aes128-sha256, dpdDelay: ${over.dpdDelay ?? 1}, dpdTimeout: ${over.dpdTimeout ?? 3}, dpdAction: restart }\nppp: { lcpEchoInterval: 1, lcpEchoFailure: 2, mtu: ${over.mtu ?? 1280} }\nl2tp: { redialTimeout: 1, maxRedials: 100000, maxRetries: 1 }\n${over.extra ?? ''}`;
add('profile', P('v2-fraction'), prof({ vrrp: '{ version: 2, advertInt: 0.3, preempt: true, preemptDelay: 0, auth: null }' }), 'VRRPv2 adverts are whole seconds');
add('profile', P('v3-auth'), prof({ vrrp: '{ version: 3, advertInt: 1, preempt: true, preemptDelay: 0, auth: { type: PASS, pass: x } }' }), 'vrrp.auth');
add('profile', P('dpd-timeout-short'), prof({ dpdDelay: 10, dpdTimeout: 3 }), 'ike.dpdTimeout');
add('profile', P('unknown-key'), prof({ extra: 'turbo: true\n' }), 'unknown key "turbo"');
add('profile', P('mtu-word'), prof({ mtu: 'big' }), 'ppp.mtu');
add('profile', P('vrrp-version-9'), prof({ vrrp: '{ version: 9, advertInt: 1, preempt: true, preemptDelay: 0, auth: null }' }), 'vrrp.version');

// --- sweeps (vipdrill tune's input) ---
const W = (f: string) => `sweep/${f}.yaml`;
const sweep = (params: string, extra = '') => `name: bad-sweep\nbase: fast\n${extra}parameters:\n${params}\n`;
add('sweep', W('unknown-parameter'), sweep('  vrrp.advertInterval: [1, 2]'), 'not a profile field a sweep can vary (did you mean "vrrp.advertInt"?)');
add('sweep', W('v2-subsecond-point'), sweep('  vrrp.version: [2]'), 'VRRPv2 adverts are whole seconds');
add('sweep', W('dpd-below-delay-point'), sweep('  ike.dpdDelay: [10]'), 'ike.dpdTimeout: 3 s is shorter than ike.dpdDelay (10 s)');
add('sweep', W('base-missing'), 'name: s\nbase: turbo\nparameters:\n  vrrp.advertInt: [1]\n', 'no profile named "turbo"');
add('sweep', W('scenario-missing'), sweep('  vrrp.advertInt: [1]', 'scenarios: [no-such-scenario]\n'), 'no scenario "no-such-scenario"');
add('sweep', W('too-many-points'), sweep(['vrrp.advertInt', 'vrrp.preemptDelay', 'ike.dpdDelay', 'ppp.lcpEchoFailure', 'l2tp.maxRetries'].map((k) => `  ${k}: [1, 2, 3, 4]`).join('\n')), '1024 points; expected at most 256');
add('sweep', W('values-empty'), sweep('  vrrp.advertInt: []'), 'expected at least one value');
add('sweep', W('value-word'), sweep('  vrrp.advertInt: [fast]'), 'expected a number or true/false');
add('sweep', W('budget-unit'), sweep('  vrrp.advertInt: [1]', 'budget: 3 fortnights\n'), 'budget');
add('sweep', W('name-traversal'), 'name: ../../x\nbase: fast\nparameters:\n  vrrp.advertInt: [1]\n', 'name: expected a name of at most 64 characters');

// --- run folders (vipdrill report) ---
const okResult = {
  schema: 'vipdrill.result/1', scenario: 'node-crash', description: 'd', file: 'scenarios/node-crash.yaml', repeat: 1, repeats: 1, lab: 'l', engine: { name: 'vm' }, profile: 'fast', topology: 't',
  verdict: 'passed', startedAt: '2026-12-01T00:00:00.000Z', labStart: 1, labEnd: 2, durationMs: 1000,
  metrics: { tunnelSeenDown: false, splitBrainMs: 0, splitBrainLongestMs: 0, splitBrainSampled: false, handoverOverlapMs: 0, splitBrainToleranceMs: 0, authFailures: {}, resolution: { vrrp: 'x', tunnel: 'y' } },
  expectations: [], invariants: [], vrrp: [], events: [],
};
const okRun = { schema: 'vipdrill.run/1', runId: 'r1', dir: '.', startedAt: '2026-12-01T00:00:00.000Z', durationMs: 1, host: { hostname: 'h', os: 'o', kernel: 'k', cpus: 2, memoryGiB: 1, node: 'v20' }, labs: [], labErrors: [], counts: { passed: 1, failed: 0, error: 0 }, exitCode: 0 };
const runDir = (name: string, files: Record<string, string>, expect: string) => {
  for (const [rel, content] of Object.entries(files)) put(`run/${name}/${rel}`, content);
  cases.push({ class: 'run-folder', file: `run/${name}`, cmd: 'report', expect });
};
const J = (x: unknown) => JSON.stringify(x);
runDir('no-run-json', { 'node-crash/repeat-1/result.json': J(okResult) }, 'it has no run.json');
runDir('run-garbage', { 'run.json': 'ceci n\'est pas du JSON' }, 'run.json: not valid JSON');
runDir('run-truncated', { 'run.json': J(okRun).slice(0, 40) }, 'run.json: not valid JSON');
runDir('run-empty-object', { 'run.json': '{}' }, 'run.json: runId');
runDir('run-list', { 'run.json': '[]' }, 'run.json: expected a JSON object, got a list');
runDir('run-null', { 'run.json': 'null' }, 'run.json: expected a JSON object, got null');
runDir('run-empty-file', { 'run.json': '' }, 'run.json: not valid JSON');
runDir('run-schema-999', { 'run.json': J({ ...okRun, schema: 'vipdrill.run/999' }) }, 'unknown schema version "vipdrill.run/999"');
runDir('result-garbage', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': '{"schema": "vipdrill.result/1", "scen' }, 'repeat-1/result.json: not valid JSON');
runDir('result-empty-object', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': '{}' }, 'repeat-1/result.json: scenario');
runDir('result-list', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': '[]' }, 'expected a JSON object, got a list');
runDir('result-schema-999', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J({ ...okResult, schema: 'vipdrill.result/999' }) }, 'unknown schema version "vipdrill.result/999"');
runDir('result-traversal', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J({ ...okResult, scenario: '../../x' }) }, 'scenario: expected a name of at most 64 characters');
runDir('result-hostile-verdict', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J({ ...okResult, verdict: '"><img src=x onerror=alert(1)>' }) }, 'verdict: expected passed, failed or error');
runDir('result-metrics-missing', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J({ ...okResult, metrics: undefined }) }, 'metrics');
runDir('result-events-not-list', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J({ ...okResult, events: 'many' }) }, 'events');
runDir('stream-garbage-line', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J(okResult), 'node-crash/repeat-1/events.jsonl': '{"source":"runner","t":1,"kind":"run.start","message":"x"}\nnot json\n' }, 'events.jsonl:2: not a JSON line');
runDir('stream-bad-evidence', { 'run.json': J(okRun), 'node-crash/repeat-1/result.json': J(okResult), 'node-crash/repeat-1/events.jsonl': '{"source":"evidence","t":1}\n' }, 'a corrupted evidence line');
// a result.json that is a directory: the folder exists, its file is a folder
mkdirSync(join(root, 'run', 'result-is-dir', 'node-crash', 'repeat-1', 'result.json'), { recursive: true });
writeFileSync(join(root, 'run', 'result-is-dir', 'node-crash', 'repeat-1', 'result.json', '.keep'), '');
writeFileSync(join(root, 'run', 'result-is-dir', 'run.json'), J(okRun));
cases.push({ class: 'run-folder', file: 'run/result-is-dir', cmd: 'report', expect: 'expected a file, got a directory' });

writeFileSync(join(root, 'cases.json'), JSON.stringify(cases, null, 1) + '\n');
const by: Record<string, number> = {};
for (const c of cases) by[c.class] = (by[c.class] ?? 0) + 1;
console.log(`${cases.length} cases in ${root}:`, by);
