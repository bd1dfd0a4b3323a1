// The fast engine: node:crypto (OpenSSL, AES-NI/SHA-NI when the CPU has them).

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { abytes } from './assert.js';
import { oneShotAesCbc } from './one-shot.js';
import type { CipherDirection, CipherStream, CryptoEngine, HashStream } from './types.js';

const BLOCK = 16;
const EMPTY = new Uint8Array(0);

function createSha256(): HashStream {
  const hash = createHash('sha256');
  return {
    update(data) {
      hash.update(data);
    },
    digest() {
      return new Uint8Array(hash.digest());
    },
  };
}

function createAesCbc(direction: CipherDirection, key: Uint8Array, iv: Uint8Array): CipherStream {
  abytes(key, 32, 'key');
  abytes(iv, BLOCK, 'iv');
  // Auto padding off: OpenSSL's PKCS#7 is not the device's rule; we zero-pad ourselves in final().
  const cipher = direction === 'encrypt' ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(false);
  let fed = 0;
  let done = false;
  return {
    update(data) {
      if (done) throw new Error('cipher stream already finished');
      fed += data.length;
      return data.length === 0 ? EMPTY : cipher.update(data);
    },
    final() {
      if (done) throw new Error('cipher stream already finished');
      done = true;
      const partial = fed % BLOCK;
      const tail = partial === 0 ? EMPTY : cipher.update(new Uint8Array(BLOCK - partial));
      cipher.final(); // nothing buffered is left, so this returns no bytes
      return tail;
    },
  };
}

export const nativeEngine: CryptoEngine = Object.freeze({
  name: 'native' as const,
  sha256(data: Uint8Array): Uint8Array {
    abytes(data, undefined, 'data');
    return new Uint8Array(createHash('sha256').update(data).digest());
  },
  createSha256,
  createAesCbc,
  aesCbc: oneShotAesCbc(createAesCbc),
});
