import ssh2 from 'ssh2';
import { VipdrillError } from '../errors.js';

export interface KeyPair {
  private: string;
  public: string;
}

type Generate = (comment: string) => KeyPair;
const generate: Generate = (comment) => ssh2.utils.generateKeyPairSync('ed25519', { comment });

/** Tries before giving up: a malformed pair comes about once in 256, so 8 in a row is about 1e-19. */
const TRIES = 8;

/**
 * An ed25519 key pair in OpenSSH form that ssh2 itself can read back. ssh2's generator strips every
 * leading zero byte of the public key (mscdex/ssh2#1390, #1513), so about one pair in 256 has a 31-byte
 * key that parseKey, and so the connection that uses it, refuses ("Malformed OpenSSH private key"):
 * such a pair is made again. Every key vipdrill writes (the VM's, a lab's SSH keys) comes from here.
 */
export function ed25519KeyPair(comment: string, gen: Generate = generate): KeyPair {
  for (let k = 0; k < TRIES; k++) {
    const pair = gen(comment);
    if (keysReadable(pair.private, pair.public)) return pair;
  }
  throw new VipdrillError('SSH_FAILED', `ssh2 made ${TRIES} ed25519 key pairs in a row that it cannot read back`);
}

/** ssh2 reads both keys back (a private key, a public key line). */
export function keysReadable(privateKey: string, publicKey: string): boolean {
  return !(ssh2.utils.parseKey(privateKey) instanceof Error) && !(ssh2.utils.parseKey(publicKey.trim()) instanceof Error);
}
