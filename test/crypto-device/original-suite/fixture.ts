// The original suites' fixture: one rig per suite; SetUp resets the device and TearDown expects it ready and
// error-free, as the original CryptoDevice test fixture did.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { DEVICE_ERROR, DEVICE_STATE } from '../../../crypto-device/lib/contract.js';
import { createRig, deviceStatus, type TestRig } from '../driver/harness.js';

/** Registers the suite hooks; `bind` receives the rig once it exists. */
export function useOriginalFixture(bind: (rig: TestRig) => void): void {
  let rig: TestRig | undefined;
  const started = (): TestRig => {
    if (!rig) throw new Error('original-suite rig not started');
    return rig;
  };
  beforeAll(async () => {
    rig = await createRig();
    bind(rig);
  });
  afterAll(async () => {
    await rig?.dispose();
  });
  beforeEach(async () => {
    await started().ctrl.reset();
  });
  afterEach(async () => {
    expect(await deviceStatus(started().ctrl)).toEqual({ state: DEVICE_STATE.READY, errorCode: DEVICE_ERROR.NONE });
  });
}
