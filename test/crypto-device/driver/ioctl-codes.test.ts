// Golden values for the control codes and the Buffer/BufferInOut layout (docs/crypto-device.md "The driver").

import { describe, expect, it } from 'vitest';
import {
  BUFFER_IN_OUT_SIZE,
  IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT,
  IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT,
  IOCTL_CRYPTO_DEVICE_GET_STATUS,
  IOCTL_CRYPTO_DEVICE_RESET,
  IOCTL_CRYPTO_DEVICE_SHA256,
  decodeBufferInOut,
  encodeBufferInOut,
  ioctlName,
} from '../../../crypto-device/driver/ioctl-codes.js';

describe('I/O control codes', () => {
  it('match the values of the original driver', () => {
    expect(IOCTL_CRYPTO_DEVICE_RESET).toBe(0x220c80);
    expect(IOCTL_CRYPTO_DEVICE_GET_STATUS).toBe(0x220c84);
    expect(IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT).toBe(0x220c88);
    expect(IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT).toBe(0x220c8c);
    expect(IOCTL_CRYPTO_DEVICE_SHA256).toBe(0x220c90);
    expect(ioctlName(0x220c90)).toBe('IOCTL_CRYPTO_DEVICE_SHA256');
    expect(ioctlName(0x220c94)).toBe('0x220C94');
  });

  it('lays BufferInOut out as two naturally aligned {u64, u32} structs of 16 bytes', () => {
    const bytes = encodeBufferInOut({ in: { address: 0x1122334455667788n, size: 0xaabbccdd }, out: { address: 0x10000n, size: 32 } });
    expect(bytes.length).toBe(BUFFER_IN_OUT_SIZE);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '8877665544332211' + 'ddccbbaa' + '00000000' + '0000010000000000' + '20000000' + '00000000',
    );
    expect(decodeBufferInOut(bytes)).toEqual({ in: { address: 0x1122334455667788n, size: 0xaabbccdd }, out: { address: 0x10000n, size: 32 } });
  });
});
