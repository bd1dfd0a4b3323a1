// The one-shot AES-256-CBC of an engine, built on that engine's own streaming cipher so the two forms agree.

import { concatBytes } from '../../kernel/bytes.js';
import { abytes } from './assert.js';
import type { CipherDirection, CryptoEngine } from './types.js';

/** `aesCbc(key, iv).encrypt(data)`: one stream per call, its update() output followed by its zero-padded final(). */
export function oneShotAesCbc(createAesCbc: CryptoEngine['createAesCbc']): CryptoEngine['aesCbc'] {
  return (key: Uint8Array, iv: Uint8Array) => {
    const run = (direction: CipherDirection, data: Uint8Array): Uint8Array => {
      abytes(data, undefined, 'data');
      const stream = createAesCbc(direction, key, iv);
      const head = stream.update(data);
      const tail = stream.final();
      // A decrypt's final() is often empty: hand back update()'s output rather than copy a large result.
      if (tail.length === 0) return head;
      if (head.length === 0) return tail;
      return concatBytes([head, tail]);
    };
    return { encrypt: (data: Uint8Array) => run('encrypt', data), decrypt: (data: Uint8Array) => run('decrypt', data) };
  };
}
