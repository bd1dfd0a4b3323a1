// Property test at the library boundary: any IOCTL code, input, output length, reader state and callback status
// leaves SmartcardDeviceControl without throwing and the IRP completed once — or pending for a reason we can name.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Irp } from '../../../kernel/irp.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { RDF_SLOTS } from '../../../smcard/constants/smclib.js';
import { SmartcardDeviceControl } from '../../../smcard/smclib/device-control.js';
import { createSmartcardExtension, SmartcardInitialize } from '../../../smcard/smclib/extension.js';

const statuses = Object.values(NTSTATUS);

describe('SmartcardDeviceControl under random input', () => {
  it('never throws and completes each IRP exactly once unless a callback kept it pending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...Object.values(IOCTL_SMARTCARD)), fc.integer({ min: 0, max: 0xffffffff })),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(...statuses),
        fc.integer({ min: 0, max: 400 }),
        fc.boolean(),
        async (code, input, outLen, state, cbStatus, cbInfo, withAtr) => {
          const ext = createSmartcardExtension();
          expect(SmartcardInitialize(ext)).toBe(NTSTATUS.STATUS_SUCCESS);
          ext.ReaderCapabilities.CurrentState = state;
          if (withAtr) {
            ext.CardCapabilities.ATR.Buffer.set([0x3b, 0x80, 0x80, 0x01, 0x01]);
            ext.CardCapabilities.ATR.Length = 5;
            ext.CardCapabilities.Protocol.Supported = 3;
            ext.CardCapabilities.Protocol.Selected = state === 6 ? 2 : 0;
          }
          let pendedBy: Irp | null = null;
          for (let i = 0; i < RDF_SLOTS; i++) {
            ext.ReaderFunction[i] = async (e) => {
              if (cbStatus === NTSTATUS.STATUS_PENDING) pendedBy = e.OsData.CurrentIrp ?? e.OsData.NotificationIrp;
              e.IoRequest.Information.value = Math.min(cbInfo, e.IoRequest.ReplyBufferLength);
              return cbStatus;
            };
          }
          const irp = new Irp({ ioControlCode: code, input, outputBufferLength: outLen });
          let completions = 0;
          irp.onCompletion(() => completions++);
          const ret = await SmartcardDeviceControl(ext, irp);
          if (ret === NTSTATUS.STATUS_PENDING) {
            expect(irp.completed).toBe(false);
            expect(irp.pendingReturned).toBe(true);
            expect(pendedBy).toBe(irp);
            irp.complete(NTSTATUS.STATUS_CANCELLED, 0);
            // A pending non-tracking IRP unblocked the library on completion.
            expect(ext.OsData.BlockedByPending).toBeNull();
          } else {
            expect(irp.completed).toBe(true);
            expect(irp.ioStatus.Status).toBe(ret);
            if (ret >>> 0 >= 0xc0000000) expect(irp.ioStatus.Information).toBe(0);
          }
          expect(completions).toBe(1);
        },
      ),
      { numRuns: Number(process.env.VSCR_FC_RUNS ?? 500) },
    );
  });
});
