// The whole kernel-side stack at once: IOCTL_SMARTCARD_TRANSMIT → SMCLIB → reader driver → virtual card → crypto
// applet → the REAL crypto device (CryptoDeviceHost), against answers computed independently (openssl/node:crypto).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoDeviceHost, type CryptoDeviceControl } from '../../../crypto-device/index.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { refEncrypt } from '../card/helpers.js';
import { hex, power, setProtocol, transmit } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

let host: CryptoDeviceHost;
let device: CryptoDeviceControl;

beforeAll(async () => {
  host = new CryptoDeviceHost();
  device = await host.open(await host.addDevice({ keyString: 'secret', guestMemoryBytes: 16 * 1024 * 1024 }));
});

afterAll(async () => {
  await device?.close();
  await host?.shutdown();
});

const h = (text: string): number[] => [...Buffer.from(text.replace(/\s+/g, ''), 'hex')];

describe('APDUs through the reader to the crypto device', () => {
  for (const protocol of [WinScard.PROTOCOL_T1, WinScard.PROTOCOL_T0]) {
    it(`PIN-protected ENCIPHER, HASH and INTERNAL AUTHENTICATE over ${protocol === WinScard.PROTOCOL_T1 ? 'T=1' : 'T=0'}`, async () => {
      const { reader, h: handle } = newReader();
      reader.insertCard(await createVirtualCard({ crypto: device }));
      await power(handle, WinScard.COLD_RESET);
      await setProtocol(handle, protocol);
      const header = protocol === WinScard.PROTOCOL_T1 ? '0200000008000000' : '0100000008000000';
      const send = async (apdu: string) => {
        const r = await transmit(handle, protocol, h(apdu));
        expect(r.status).toBe(NTSTATUS.STATUS_SUCCESS);
        expect(hex(r.output.subarray(0, 8))).toBe(header);
        return hex(r.output.subarray(8));
      };
      // Over T=0 a case-4 answer waits for GET RESPONSE (61xx); over T=1 it comes at once.
      const fetch = async (apdu: string, nr: number) => {
        const first = await send(apdu);
        if (protocol === WinScard.PROTOCOL_T1) return first;
        expect(first).toBe(`61${nr.toString(16).padStart(2, '0')}`);
        return send(`00C00000${nr.toString(16).padStart(2, '0')}`);
      };
      expect(await send('00A4040C06F07673637201')).toBe('9000');
      expect(await send('002A86800331323300')).toBe('6982'); // PIN first
      expect(await send('002000810431323334')).toBe('9000');
      expect(await fetch('002A86800331323300', 17)).toBe('00' + '13933c64935f9001534e01365105aa56' + '9000');
      expect(await fetch('002A90800331323300', 32)).toBe('a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3' + '9000');
      const challenge = Buffer.from('0011223344556677', 'hex');
      expect(await fetch('00880000080011223344556677' + '00', 16)).toBe(refEncrypt(challenge).toString('hex') + '9000');
      expect(reader.device.faults).toEqual([]);
    });
  }
});
