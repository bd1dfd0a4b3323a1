// The reader's event counter wraps at 16 bits: 65537 insertions and removals through the resource manager.

import { afterEach, describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createResourceManager } from '../../../service/rm/index.js';
import type { ResourceManagerApi } from '../../../service/rm/contract.js';
import { waitForRm } from '../../support/rm-stack.js';
import { ScriptedBus, ScriptedDevice } from '../../support/scripted-reader.js';

let rm: ResourceManagerApi | null = null;
afterEach(async () => {
  await rm?.shutdown();
  rm = null;
});

describe('event counter', () => {
  it('wraps at 16 bits (65537 insertions/removals later it reads 1)', async () => {
    const bus = new ScriptedBus();
    const dev = new ScriptedDevice('\\\\?\\SCRIPTED#2');
    bus.add(dev);
    rm = createResourceManager({ bus });
    await rm.ready();
    const api = rm;
    const TARGET = 0x10001;
    let events = 0;
    let sawWrap = false;
    let last = api.readerStates()[0].eventCounter;
    api.onChange(() => {
      const c = api.readerStates()[0]?.eventCounter ?? last;
      if (c === 0 && last === 0xffff) sawWrap = true;
      last = c;
    });
    // Complete each tracking IRP once the RM has seen it pend (a few event-loop turns), TARGET times.
    dev.onPended = () => {
      if (events >= TARGET) return;
      events++;
      let turns = 8;
      const later = (): void => {
        if (--turns > 0) setImmediate(later);
        else dev.completeTracking(NTSTATUS.STATUS_SUCCESS);
      };
      setImmediate(later);
    };
    dev.completeTracking(NTSTATUS.STATUS_SUCCESS);
    events++;
    await waitForRm(api, () => api.readerStates()[0]?.eventCounter === (TARGET & 0xffff) && events >= TARGET, 'counter wrap', 50000);
    expect(sawWrap).toBe(true);
    expect(api.readerStates()[0].eventCounter).toBe(1);
  }, 60000);
});
