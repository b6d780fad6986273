import { FILES, type Rule } from './finding.js';

/** Authentication failing after a failover: the new holder's secrets are not the old holder's. */
export const authDrift: Rule = ({ result: r }) => {
  const m = r.metrics;
  const fails = Object.entries(m.authFailures);
  if (fails.length === 0 || r.firstFaultAt === undefined) return undefined;
  const psk = fails.some(([k]) => /psk|ike|charon/i.test(k));
  const chap = fails.some(([k]) => /chap|ppp/i.test(k));
  const lost = (m.outageMs ?? 0) + (m.failbackOutageMs ?? 0);
  return {
    id: 'auth-after-failover',
    mechanism: `Authentication failed after the fault (${fails.map(([k, n]) => `${n} on ${k}`).join(', ')}): the node the client reached does not hold the same ${psk && !chap ? 'pre-shared key' : chap && !psk ? 'CHAP secret' : 'secrets'} as the one it left. The pair's secrets have drifted apart.`,
    evidence: fails.map(([k, n]) => ({ t: r.firstFaultAt!, what: `${n} authentication failure(s) logged on ${k} after the fault` })),
    impactMs: lost,
    remedy: [
      ...(chap || !psk ? [{ file: FILES.chapSecrets, line: 'the same client line on both nodes', why: 'pppd on the new holder checks the client\'s CHAP response against its own copy' }] : []),
      ...(psk || !chap ? [{ file: FILES.swanctl, line: 'the same secrets { ike-… { secret = … } } on both nodes', why: 'charon on the new holder authenticates the client with its own copy of the PSK' }] : []),
    ],
    confidence: 'high',
  };
};
