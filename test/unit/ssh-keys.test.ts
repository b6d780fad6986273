import { expect } from 'chai';
import ssh2 from 'ssh2';
import { ed25519KeyPair, keysReadable } from '../../src/lab/ssh-keys.js';

/**
 * ssh2's ed25519 generator makes about one pair in 256 that ssh2 cannot read back (mscdex/ssh2#1390):
 * CI's stop 23 rehearsal lost its VM-link test to one ("Malformed OpenSSH private key"), and the VM's
 * and the labs' keys came from the same generator.
 */
describe('ed25519 key pairs ssh2 can read back', () => {
  const raw = (comment: string) => ssh2.utils.generateKeyPairSync('ed25519', { comment });
  // a pair the generator got wrong, found by asking it until it does (P(none in 20000) ~ 1e-34)
  const bad = (() => {
    for (let k = 0; k < 20_000; k++) {
      const p = raw('bad');
      if (!keysReadable(p.private, p.public)) return p;
    }
    throw new Error('ssh2 made 20000 readable pairs in a row: its generator was fixed, and this test can go');
  })();

  it('a pair ssh2 cannot read is made again, and one that never comes right is an error', () => {
    // a readable pair, found the same way: the bare generator's next pair is itself bad once in 256
    // (stop 25's CI drew one: the stand-in ran out and the test crashed instead of judging)
    const good = (() => {
      for (;;) {
        const p = raw('good');
        if (keysReadable(p.private, p.public)) return p;
      }
    })();
    const given = [bad, good];
    expect(ed25519KeyPair('x', () => given.shift()!)).to.equal(good);
    expect(() => ed25519KeyPair('x', () => bad)).to.throw(/8 ed25519 key pairs in a row that it cannot read back/);
  });

  it('3000 pairs in a row all parse, private and public (the bare generator fails that with P > 0.9999)', () => {
    for (let k = 0; k < 3000; k++) {
      const p = ed25519KeyPair(`k${k}`);
      expect(ssh2.utils.parseKey(p.private), `pair ${k}`).to.not.be.instanceOf(Error);
      expect(ssh2.utils.parseKey(p.public), `pair ${k}`).to.not.be.instanceOf(Error);
    }
  });
});
