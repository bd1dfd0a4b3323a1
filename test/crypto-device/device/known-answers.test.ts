// Known answers of docs/crypto-device.md through the real device (worker, page lists, interrupts), for both engines.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kat from '../../vectors/crypto-device-known-answers.json' with { type: 'json' };
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, ERROR, IRQ_NUM } from '../../../crypto-device/device/registers.js';
import { deriveDeviceKey } from '../../../crypto-device/device/commands.js';
import { nativeEngine } from '../../../crypto-device/engines/index.js';
import { IrqRecorder, fromHex, hex, makeDevice, placeBuffer, program, rd, wr } from './harness.js';

async function run(dev: PciCryptoDeviceModel, rec: IrqRecorder, command: number, input: Uint8Array, outLength: number) {
  const inBuf = placeBuffer(dev, input.length, { data: input, offset: 100 });
  const outBuf = placeBuffer(dev, outLength, { offset: 7 });
  program(dev, input.length === 0 ? undefined : { listPfn: inBuf.listPfn, length: input.length }, { listPfn: outBuf.listPfn, length: outLength });
  const before = rec.events.length;
  wr(dev, 'COMMAND', command);
  await rec.waitFor(before + 1);
  return { vector: rec.events[before].vector, out: outBuf.read() };
}

for (const engine of ['native', 'noble'] as const) {
  describe(`known answers through the device (${engine})`, () => {
    let dev: PciCryptoDeviceModel;
    let rec: IrqRecorder;
    beforeAll(async () => {
      dev = await makeDevice({ engine, keyString: kat.keyString, interruptMode: 'msi-multi' });
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      rec = new IrqRecorder(dev);
    });
    afterAll(() => dev.destroy());

    it('derives key = SHA-256(key string)', () => {
      expect(hex(deriveDeviceKey(nativeEngine, kat.keyString))).toBe(kat.key);
      expect(hex(deriveDeviceKey(nativeEngine, undefined))).toBe('00'.repeat(32));
    });

    for (const v of kat.aesEncrypt) {
      it(`AES-256-CBC encrypt ${v.name}`, async () => {
        const { vector, out } = await run(dev, rec, COMMAND.AES_CBC_ENCRYPT, fromHex(v.inputHex), 16);
        expect(vector).toBe(IRQ_NUM.READY);
        expect(hex(out)).toBe(v.outputHex);
        // Decrypt strips nothing: the zero padding comes back.
        const back = await run(dev, rec, COMMAND.AES_CBC_DECRYPT, out, 16);
        expect(back.vector).toBe(IRQ_NUM.READY);
        expect(hex(back.out)).toBe(v.inputHex.padEnd(32, '0'));
      });
    }

    for (const v of kat.sha256) {
      it(`SHA-256 ${v.name}`, async () => {
        const { vector, out } = await run(dev, rec, COMMAND.SHA256, fromHex(v.inputHex), 32);
        expect(vector).toBe(IRQ_NUM.READY);
        expect(hex(out)).toBe(v.digest);
        expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.NONE);
      });
    }

    it('a device without a key string uses the all-zero key', async () => {
      const zdev = await makeDevice({ engine, keyString: undefined, interruptMode: 'msi-multi' });
      try {
        wr(zdev, 'INTERRUPT_FLAG', 0xff);
        const zrec = new IrqRecorder(zdev);
        const { out } = await run(zdev, zrec, COMMAND.AES_CBC_ENCRYPT, new Uint8Array(16), 16);
        expect(hex(out)).toBe(hex(nativeEngine.aesCbc(new Uint8Array(32), fromHex(kat.iv)).encrypt(new Uint8Array(16))));
      } finally {
        await zdev.destroy();
      }
    });
  });
}
