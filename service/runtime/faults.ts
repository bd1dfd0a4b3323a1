// Faults on demand for the hosted readers: arms them on a reader's driver, carries out the ones the driver cannot
// (unplug and replug through the bus, a reset by another resource-manager client, a card pulled or unpowered at
// once), and logs and counts every fault that fires (docs/faults.md). One instance serves REST and JSON-RPC.

import type { Logger } from 'pino';
import type { VirtualReader } from '../../smcard/reader/contract.js';
import { type ArmedFault, type FaultSpec, FaultSpecError, type ReaderFaults } from '../../smcard/reader/faults/reader-faults.js';
import type { FaultRequest } from '../../smcard/reader/faults/fault-request.js';
import type { ResourceManagerApi } from '../rm/contract.js';
import { SCARD, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SHARE, scardName } from '../contract/pcsclite.js';
import type { Metrics } from './metrics.js';
import type { ReaderHost } from './readers.js';

export const FAULTS_FIRED_METRIC = ['vscr_faults_fired_total', 'Faults fired, by reader and kind'] as const;

/** An armed fault as listed over REST and JSON-RPC. */
export interface FaultView {
  id: number;
  reader: number;
  kind: string;
  once: boolean;
  trigger: FaultSpec['trigger'] | null;
  seen: number;
  fired: number;
  spec: FaultSpec;
}

/** A spec plus `now`: an event fault carried out at once. */
export type ArmRequest = FaultRequest;

const EVENT_KINDS = new Set(['remove-card', 'unplug', 'reset-card', 'power-fail']);

export class FaultHost {
  private readonly wired = new WeakSet<ReaderFaults>();

  constructor(
    private readonly readers: ReaderHost,
    private readonly rm: () => ResourceManagerApi,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.metrics.declare(FAULTS_FIRED_METRIC[0], FAULTS_FIRED_METRIC[1], 'counter');
  }

  view(reader: VirtualReader, f: ArmedFault): FaultView {
    return { id: f.id, reader: reader.unitNo, kind: f.kind, once: f.once, trigger: f.spec.trigger ?? null, seen: f.seen, fired: f.fired, spec: f.spec };
  }

  list(reader: VirtualReader): FaultView[] {
    return this.faultsOf(reader).list().map((f) => this.view(reader, f));
  }

  /** The reader a REST `:reader` or JSON-RPC `reader` names (unit number or name). */
  find(ref: string): VirtualReader | undefined {
    return this.readers.find(ref);
  }

  /** The faults armed on every reader that takes them, by unit number. */
  listAll(): FaultView[] {
    return this.readers.list().flatMap((v) => {
      const reader = this.readers.find(String(v.index));
      return reader?.faults ? this.list(reader) : [];
    });
  }

  clear(reader: VirtualReader, id?: number): number {
    return this.faultsOf(reader).clear(id);
  }

  /** Arms a fault; with `now`, an event fault fires at once instead of on an APDU. */
  async arm(reader: VirtualReader, request: ArmRequest): Promise<FaultView> {
    const { now, ...spec } = request;
    if (now && !EVENT_KINDS.has(spec.kind)) throw new FaultSpecError(`"now" applies to remove-card, unplug, reset-card and power-fail; a ${spec.kind} fault acts on an APDU`);
    if (now && spec.kind === 'power-fail' && reader.card === null) throw new FaultSpecError(`power-fail needs a card in reader ${reader.unitNo}`);
    const faults = this.faultsOf(reader);
    const armed = faults.arm(now ? { ...spec, once: true } : spec);
    const view = this.view(reader, armed);
    if (now) {
      faults.fire(armed);
      await this.carryOut(reader, armed);
      return { ...view, fired: 1 };
    }
    return view;
  }

  private faultsOf(reader: VirtualReader): ReaderFaults {
    const faults = reader.faults;
    if (!faults) throw new FaultSpecError(`reader ${reader.unitNo} takes no faults`);
    if (!this.wired.has(faults)) {
      this.wired.add(faults);
      faults.onFired = (f) => {
        this.metrics.counter(FAULTS_FIRED_METRIC[0], FAULTS_FIRED_METRIC[1], { reader: reader.unitNo, kind: f.kind }).inc();
        this.log.warn({ reader: reader.unitNo, fault: f.id, kind: f.kind, fired: f.fired }, 'fault fired');
      };
      faults.onEvent = (f) => void this.carryOut(reader, f).catch((err: unknown) => this.log.error({ err, fault: f.id }, 'fault action failed'));
    }
    return faults;
  }

  /** The event faults' actions, outside the driver. */
  private async carryOut(reader: VirtualReader, f: ArmedFault): Promise<void> {
    switch (f.kind) {
      case 'remove-card':
        // Fired on an APDU the driver has already emptied the slot; at once, the host pulls the card.
        if (reader.card !== null) await this.readers.removeCard(reader);
        return;
      case 'reset-card':
        return this.resetByAnotherParty(reader);
      case 'unplug':
        return this.unplug(reader, f.spec.replugMs);
      case 'power-fail':
        // On an APDU the driver cuts the power itself; at once, the host does.
        await reader.cutCardPower?.();
        return;
      default:
        return;
    }
  }

  /** Another client connects shared and reconnects with RESET_CARD, as a second application would. */
  private async resetByAnotherParty(reader: VirtualReader): Promise<void> {
    const name = this.readers.describe(reader).name;
    const session = this.rm().openSession('fault:reset-card');
    try {
      const ctx = session.establishContext(2);
      const c = await session.connect(ctx.hContext, name, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
      if (c.rv !== SCARD.S_SUCCESS) throw new FaultSpecError(`reset-card needs a card another client can connect to (SCardConnect answered ${scardName(c.rv)})`, scardName(c.rv));
      const r = await session.reconnect(c.hCard, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.RESET_CARD);
      if (r.rv !== SCARD.S_SUCCESS) throw new FaultSpecError(`reset-card: SCardReconnect answered ${scardName(r.rv)}`, scardName(r.rv));
      await session.disconnect(c.hCard, SCARD_DISPOSITION.LEAVE_CARD);
      await session.releaseContext(ctx.hContext);
    } finally {
      await session.close();
    }
  }

  /** Surprise removal, then (after replugMs) a reader of the same kind at the same unit with the same card. */
  private async unplug(reader: VirtualReader, replugMs: number | undefined): Promise<void> {
    const profile = reader.card?.profile ?? null;
    const options = this.readers.addOptionsOf(reader);
    await this.readers.removeReader(reader);
    if (replugMs === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, replugMs));
    const again = await this.readers.addReader(options);
    if (profile !== null) await this.readers.insertCard(again, profile);
    this.log.warn({ reader: again.unitNo }, 'fault: reader plugged back');
  }
}
