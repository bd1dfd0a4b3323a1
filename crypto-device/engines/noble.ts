// The pure-JS engine: @noble/hashes SHA-256 and @noble/ciphers AES-CBC, with CBC chaining carried by hand.

import { cbc } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes } from './assert.js';
import { oneShotAesCbc } from './one-shot.js';
import type { CipherDirection, CipherStream, CryptoEngine, HashStream } from './types.js';

const BLOCK = 16;
const EMPTY = new Uint8Array(0);

function createSha256(): HashStream {
  const hash = sha256.create();
  return {
    update(data) {
      hash.update(data);
    },
    digest() {
      return hash.digest();
    },
  };
}

/**
 * noble's cbc() is one-shot (and refuses a second call per key+IV), so each update runs a fresh cbc() over the
 * whole blocks with the running chaining value as its IV: the last ciphertext block (SP 800-38A §6.2).
 */
function createAesCbc(direction: CipherDirection, key: Uint8Array, iv: Uint8Array): CipherStream {
  abytes(key, 32, 'key');
  abytes(iv, BLOCK, 'iv');
  const k = Uint8Array.from(key);
  const chain = Uint8Array.from(iv);
  const carry = new Uint8Array(BLOCK); // a partial block waiting for more bytes
  let carried = 0;
  let done = false;

  // Runs whole blocks from `src` into `dst` and advances the chaining value.
  const blocks = (src: Uint8Array, dst: Uint8Array): void => {
    // Decrypt chains on the input ciphertext: keep its last block before `dst` could alias anything.
    const nextChain = direction === 'decrypt' ? src.slice(src.length - BLOCK) : undefined;
    const c = cbc(k, chain, { disablePadding: true });
    if (direction === 'encrypt') c.encrypt(src, dst);
    else c.decrypt(src, dst);
    chain.set(nextChain ?? dst.subarray(dst.length - BLOCK));
  };

  return {
    update(data) {
      if (done) throw new Error('cipher stream already finished');
      let input = data;
      const total = carried + input.length;
      if (total < BLOCK) {
        carry.set(input, carried);
        carried = total;
        return EMPTY;
      }
      const out = new Uint8Array(total - (total % BLOCK));
      let o = 0;
      if (carried > 0) {
        const need = BLOCK - carried;
        carry.set(input.subarray(0, need), carried);
        blocks(carry, out.subarray(0, BLOCK));
        input = input.subarray(need);
        carried = 0;
        o = BLOCK;
      }
      const whole = input.length - (input.length % BLOCK);
      if (whole > 0) blocks(input.subarray(0, whole), out.subarray(o, o + whole));
      carry.set(input.subarray(whole));
      carried = input.length - whole;
      return out;
    },
    final() {
      if (done) throw new Error('cipher stream already finished');
      done = true;
      let out = EMPTY;
      if (carried > 0) {
        carry.fill(0, carried); // zero padding, the device's rule
        out = new Uint8Array(BLOCK);
        blocks(carry, out);
      }
      carry.fill(0);
      k.fill(0);
      chain.fill(0);
      return out;
    },
  };
}

export const nobleEngine: CryptoEngine = Object.freeze({
  name: 'noble' as const,
  sha256(data: Uint8Array): Uint8Array {
    abytes(data, undefined, 'data');
    return sha256(data);
  },
  createSha256,
  createAesCbc,
  aesCbc: oneShotAesCbc(createAesCbc),
});
