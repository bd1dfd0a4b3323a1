// createResourceManager: wires the reader registry, card monitors and sessions into the ResourceManagerApi
// (the SCardSvr/pcscd role; docs/architecture.md "service/", docs/style.md convention 4).

import pino, { type Logger } from 'pino';
import type { ReaderBus } from '../../smcard/reader/contract.js';
import type { ReaderDiagnosis, ReaderSnapshot, ResourceManagerApi, RmSession } from './contract.js';
import { ChangeEmitter } from './change-emitter.js';
import { ReaderRegistry } from './reader-registry.js';
import type { RmCore } from './rm-core.js';
import { Session } from './session.js';
import { DEFAULT_POWER_DOWN_DELAY_MS } from './idle-power.js';

export type { ReaderDiagnosis, ReaderSnapshot, ResourceManagerApi, RmSession } from './contract.js';
export { ntStatusToScard, stringifyError, describeMapping } from './error-map.js';
export { toWindowsControlCode } from './winscard-card-io.js';

export { DEFAULT_POWER_DOWN_DELAY_MS } from './idle-power.js';

export function createResourceManager(opts: {
  bus: ReaderBus;
  logger?: Logger;
  /** Power a card down this long after its last handle, like pcscd (default 5 s); 0 = never. */
  powerDownDelayMs?: number;
}): ResourceManagerApi {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'rm' });
  const changes = new ChangeEmitter(log);
  const registry = new ReaderRegistry(opts.bus, changes, log);
  const core: RmCore = { registry, changes, log, contexts: new Map(), handles: new Map(), stopped: false, powerDownDelayMs: opts.powerDownDelayMs ?? DEFAULT_POWER_DOWN_DELAY_MS };
  const sessions = new Set<Session>();
  registry.start();

  return {
    openSession(label: string): RmSession {
      const s = new Session(core, label, (closed) => {
        sessions.delete(closed);
        log.debug({ session: closed.id }, 'session closed');
      });
      sessions.add(s);
      log.debug({ session: s.id }, 'session opened');
      return s;
    },
    readerStates: (): ReaderSnapshot[] => registry.snapshots(),
    diagnose: (): ReaderDiagnosis[] => registry.diagnose(),
    usage: () => ({ sessions: sessions.size, contexts: core.contexts.size, cardHandles: core.handles.size }),
    onChange: (listener) => changes.on(listener),
    ready: () => registry.ready(),
    async shutdown(): Promise<void> {
      if (core.stopped) return;
      core.stopped = true;
      for (const s of sessions) s.systemCancel();
      await registry.shutdown();
      log.info('resource manager stopped');
    },
  };
}
