// docs/smclib.md §9 case 3 end to end: with the emulated resource manager on top, the reader of the forum thread's
// driver (docs/background.md) is not listed (and the diagnosis names the DEVICE_BUSY), while the correct driver's
// reader is published. Uses service/rm as is.

import { describe, expect, it } from 'vitest';
import { createResourceManager } from '../../../service/rm/index.js';
import { createReaderBus } from '../../../smcard/index.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { within } from '../../support/io.js';

describe('reader visibility through the resource manager (§9.3, §5.7)', () => {
  it('publishes the correct reader and drops the forum-broken one with STATUS_DEVICE_BUSY', async () => {
    const bus = createReaderBus();
    const good = bus.addReader({ variant: 'correct' });
    const bad = bus.addReader({ variant: 'forum-broken' });
    good.insertCard(new FixtureCard());
    const rm = createResourceManager({ bus });
    try {
      await within(rm.ready(), 5000, 'rm.ready()');
      expect(rm.readerStates().map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00']);
      const diag = rm.diagnose().find((d) => d.symbolicLink === bad.device.symbolicLink);
      expect(diag?.published).toBe(false);
      expect(diag?.failure).toMatch(/IOCTL_SMARTCARD_IS_ABSENT.*STATUS_DEVICE_BUSY \(0x80000011\)/);
      expect(bad.traceText()).toMatch(/IOCTL_SMARTCARD_IS_ABSENT\)\n.*!LibComplete called: status 80000011 \(STATUS_DEVICE_BUSY\), Context [0-9A-F]{16} Information 0/);
      expect(good.trace().some((e) => e.statusName === 'STATUS_DEVICE_BUSY')).toBe(false);
    } finally {
      await rm.shutdown();
    }
  });
});
