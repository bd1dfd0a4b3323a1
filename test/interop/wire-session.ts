// Shared suite set-up for raw-socket interop tests: one started service, and wire clients closed after the suite.
import { afterAll, beforeAll } from 'vitest';
import { WireClient } from '../service/pcsclite/wire-client.js';
import { type InteropService, startInteropService } from './support.js';

export interface WireSession {
  service(): InteropService;
  /** A new connection to the service's pcsc-lite socket, destroyed after the suite. */
  client(): Promise<WireClient>;
}

/** Call at describe level: starts the service before the suite and tears everything down after it. */
export function useWireSession(): WireSession {
  let svc: InteropService | undefined;
  const open: WireClient[] = [];
  beforeAll(async () => {
    svc = await startInteropService();
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await svc?.close();
  });
  return {
    service() {
      if (!svc) throw new Error('interop service not started');
      return svc;
    },
    async client() {
      const c = await WireClient.open(this.service().socketPath);
      open.push(c);
      return c;
    },
  };
}
