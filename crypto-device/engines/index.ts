// Engine registry: picks the crypto back end a device uses (docs/crypto-device.md; docs/architecture.md "Engines").

import type { EngineName } from './types.js';
import { nativeEngine } from './native.js';
import { nobleEngine } from './noble.js';
import type { CryptoEngine } from './types.js';

export type { CipherDirection, CipherStream, CryptoEngine, HashStream } from './types.js';
export { nativeEngine } from './native.js';
export { nobleEngine } from './noble.js';

export { ENGINE_NAMES } from './types.js';

/** @throws RangeError for an unknown engine name. */
export function getEngine(name: EngineName): CryptoEngine {
  switch (name) {
    case 'native':
      return nativeEngine;
    case 'noble':
      return nobleEngine;
    default:
      throw new RangeError(`unknown crypto engine '${String(name)}' (expected native or noble)`);
  }
}
