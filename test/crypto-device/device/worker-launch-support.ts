// Shared by the two device-worker launch tests: a script that drives a fresh device through BAR0, and how to run it.

import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHA_123 = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';

/** A script that hashes "123" on a fresh device, programming BAR0 directly, and prints the digest. */
export const script = (indexUrl: string) => `
import { createPciCryptoDevice, REG } from ${JSON.stringify(indexUrl)};
const dev = await createPciCryptoDevice({ keyString: 'secret', guestMemoryBytes: 1 << 20 });
dev.setInterruptMode('msi-multi');
dev.mmioWrite(REG.INTERRUPT_FLAG.offset, 1, 0xff);
const [list, data, olist, out] = dev.memory.allocPages(4);
dev.memory.bytes.set([0x31, 0x32, 0x33], data);
const view = new DataView(dev.memory.sab);
view.setUint32(list, data, true);
view.setUint32(olist, out, true);
let onIrq = () => {};
dev.connectInterrupt((id) => (onIrq(id), true));
// Many back-to-back requests: the idle worker is unref'd between them, and the process must neither exit early
// (an interrupt still in flight) nor hang after destroy().
let v;
for (let i = 0; i < 300; i++) {
  const vector = new Promise((res) => (onIrq = res));
  dev.mmioWrite(REG.DMA_IN_ADDRESS.offset, 4, list / 4096);
  dev.mmioWrite(REG.DMA_IN_SIZE.offset, 4, 3);
  dev.mmioWrite(REG.DMA_OUT_ADDRESS.offset, 4, olist / 4096);
  dev.mmioWrite(REG.DMA_OUT_SIZE.offset, 4, 32);
  dev.mmioWrite(REG.COMMAND.offset, 1, 4);
  v = await vector;
}
console.log(v, Buffer.from(dev.memory.bytes.subarray(out, out + 32)).toString('hex'));
await dev.destroy();
`;
