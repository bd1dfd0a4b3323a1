// The change feed behind GET /v1/events: diffs the resource manager's reader snapshots on every onChange and
// carries device events, fanning both out to subscribers.

import type { ReaderSnapshot, ResourceManagerApi } from '../rm/contract.js';
import { READER_STATE } from '../contract/pcsclite.js';
import { toHex } from '../../kernel/bytes.js';
import { readerStateNames } from './readers.js';

export type ServiceEvent =
  | { event: 'reader'; data: ReaderEventData }
  | { event: 'device'; data: DeviceEventData };

export interface ReaderEventData {
  type: 'snapshot' | 'reader-added' | 'reader-removed' | 'card-inserted' | 'card-removed' | 'reader-changed';
  time: string;
  reader?: ReaderEventReader;
  readers?: ReaderEventReader[];
}

export interface ReaderEventReader {
  name: string;
  slot: number;
  unitNo: number;
  state: number;
  stateNames: string[];
  eventCounter: number;
  atr: string | null;
  protocol: number;
  sharing: number;
}

export interface DeviceEventData {
  type: 'device-reset';
  time: string;
  device: number;
  state: number;
  stateName: string;
  errorCode: number;
  errorName: string;
}

function view(s: ReaderSnapshot): ReaderEventReader {
  return {
    name: s.name,
    slot: s.slot,
    unitNo: s.unitNo,
    state: s.readerState,
    stateNames: readerStateNames(s.readerState),
    eventCounter: s.eventCounter,
    atr: s.atr.length > 0 ? toHex(s.atr) : null,
    protocol: s.protocol,
    sharing: s.sharing,
  };
}

function sameSnapshot(a: ReaderSnapshot, b: ReaderSnapshot): boolean {
  return a.readerState === b.readerState && a.eventCounter === b.eventCounter && a.sharing === b.sharing
    && a.protocol === b.protocol && Buffer.compare(a.atr, b.atr) === 0;
}

export class EventHub {
  private readonly listeners = new Set<(e: ServiceEvent) => void>();
  private previous = new Map<string, ReaderSnapshot>();
  private detach: (() => void) | null = null;
  private readonly rm: ResourceManagerApi;

  constructor(rm: ResourceManagerApi) {
    this.rm = rm;
    this.previous = this.current();
    this.detach = rm.onChange(() => this.onRmChange());
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  subscribe(listener: (e: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state a new subscriber starts from. */
  snapshot(): ServiceEvent {
    return { event: 'reader', data: { type: 'snapshot', time: new Date().toISOString(), readers: this.rm.readerStates().map(view) } };
  }

  emitDevice(data: Omit<DeviceEventData, 'time'>): void {
    this.emit({ event: 'device', data: { ...data, time: new Date().toISOString() } });
  }

  close(): void {
    this.detach?.();
    this.detach = null;
    this.listeners.clear();
  }

  private current(): Map<string, ReaderSnapshot> {
    return new Map(this.rm.readerStates().map((s) => [s.symbolicLink, s]));
  }

  private onRmChange(): void {
    const now = this.current();
    const time = new Date().toISOString();
    for (const [link, s] of now) {
      const before = this.previous.get(link);
      if (before === undefined) {
        this.emit({ event: 'reader', data: { type: 'reader-added', time, reader: view(s) } });
        continue;
      }
      if (sameSnapshot(before, s)) continue;
      const had = (before.readerState & READER_STATE.PRESENT) !== 0;
      const has = (s.readerState & READER_STATE.PRESENT) !== 0;
      // A remove-and-reinsert between two notifications shows only as a counter step of 2: report both.
      if (had && (!has || s.eventCounter !== before.eventCounter)) this.emit({ event: 'reader', data: { type: 'card-removed', time, reader: view(s) } });
      if (has && (!had || s.eventCounter !== before.eventCounter)) this.emit({ event: 'reader', data: { type: 'card-inserted', time, reader: view(s) } });
      if (had === has && s.eventCounter === before.eventCounter) this.emit({ event: 'reader', data: { type: 'reader-changed', time, reader: view(s) } });
    }
    for (const [link, s] of this.previous) {
      if (!now.has(link)) this.emit({ event: 'reader', data: { type: 'reader-removed', time, reader: view(s) } });
    }
    this.previous = now;
  }

  private emit(e: ServiceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(e);
      } catch {
        // A broken subscriber must not stop the others; the SSE route removes itself on write errors.
      }
    }
  }
}
