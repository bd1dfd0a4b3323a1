// A small in-memory ResourceManagerApi for transport tests: readers, one-card slots, shares, a transaction lock.
import type { ReaderSnapshot, ResourceManagerApi, RmSession } from '../../../service/rm/contract.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, SCARD } from '../../../service/contract/pcsclite.js';

interface FakeReader {
  name: string;
  atr: Uint8Array | null;
  eventCounter: number;
  sharing: number;
  protocol: number;
  lockHolder: number;
  lockWaiters: (() => void)[];
}

interface FakeCard {
  reader: FakeReader;
  hContext: number;
  share: number;
  sessionId: string;
}

/**
 * APDUs: INS 0x84 → P3 bytes 0x5A + 9000; INS 0xCA → (P1<<8|P2) bytes 0xAB + 9000; anything else → 9000.
 * Enough to exercise data lengths and INSUFFICIENT_BUFFER without a real card.
 */
function answer(apdu: Uint8Array): Uint8Array {
  const ins = apdu[1];
  let data = new Uint8Array(0);
  if (ins === 0x84) data = new Uint8Array(apdu[4] ?? 0).fill(0x5a);
  if (ins === 0xca) data = new Uint8Array((apdu[2] << 8) | apdu[3]).fill(0xab);
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out.set([0x90, 0x00], data.length);
  return out;
}

export class FakeRm implements ResourceManagerApi {
  readonly readers: FakeReader[] = [];
  readonly cards = new Map<number, FakeCard>();
  readonly openSessions = new Set<string>();
  readonly closedSessions: string[] = [];
  private readonly listeners = new Set<() => void>();
  private nextHandle = 0x1000;

  constructor(names: string[] = ['Fake Reader 00 00', 'Fake Reader 01 00']) {
    for (const name of names) this.addReader(name);
  }

  addReader(name: string): void {
    this.readers.push({ name, atr: null, eventCounter: 0, sharing: 0, protocol: 0, lockHolder: 0, lockWaiters: [] });
    this.changed();
  }

  removeReader(name: string): void {
    const i = this.readers.findIndex((r) => r.name === name);
    if (i >= 0) this.readers.splice(i, 1);
    this.changed();
  }

  insert(index: number, atr = new Uint8Array([0x3b, 0x80, 0x80, 0x01, 0x01])): void {
    const r = this.readers[index];
    r.atr = atr;
    r.eventCounter = (r.eventCounter + 1) & 0xffff;
    this.changed();
  }

  remove(index: number): void {
    const r = this.readers[index];
    r.atr = null;
    r.protocol = 0;
    r.lockHolder = 0;
    r.eventCounter = (r.eventCounter + 1) & 0xffff;
    this.changed();
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  readerStates(): ReaderSnapshot[] {
    return this.readers.map((r, slot) => ({
      name: r.name,
      slot,
      unitNo: slot,
      symbolicLink: `fake#${slot}`,
      eventCounter: r.eventCounter,
      readerState: r.atr ? 0x34 : 0x02,
      sharing: r.sharing,
      atr: r.atr ?? new Uint8Array(0),
      protocol: r.protocol,
    }));
  }

  diagnose() {
    return [];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async ready(): Promise<void> {}
  async shutdown(): Promise<void> {}

  private release(card: FakeCard, hCard: number): void {
    const r = card.reader;
    if (r.lockHolder === hCard) this.unlock(r);
    r.sharing = r.sharing === -1 ? 0 : Math.max(0, r.sharing - 1);
    this.cards.delete(hCard);
    this.changed();
  }

  private unlock(r: FakeReader): void {
    r.lockHolder = 0;
    const next = r.lockWaiters.shift();
    if (next) next();
  }

  openSession(label: string): RmSession {
    const id = `${label}`;
    this.openSessions.add(id);
    const contexts = new Set<number>();
    const own = (hCard: number): FakeCard | undefined => {
      const c = this.cards.get(hCard);
      return c && c.sessionId === id ? c : undefined;
    };
    // The session's methods are plain object methods (their own `this`); they reach the fake through `rm`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rm = this;
    const session: RmSession = {
      id,
      establishContext(dwScope) {
        if (dwScope > 3) return { rv: SCARD.E_INVALID_VALUE, hContext: 0 };
        const h = rm.nextHandle++;
        contexts.add(h);
        return { rv: 0, hContext: h };
      },
      async releaseContext(hContext) {
        if (!contexts.delete(hContext)) return SCARD.E_INVALID_HANDLE;
        for (const [h, c] of [...rm.cards]) if (c.hContext === hContext) rm.release(c, h);
        return 0;
      },
      isValidContext: (h) => (contexts.has(h) ? 0 : SCARD.E_INVALID_HANDLE),
      ownsContext: (h) => contexts.has(h),
      ownsCard: (h) => own(h) !== undefined,
      listReaders: () => ({ rv: 0, readers: rm.readers.map((r) => r.name) }),
      listReaderGroups: () => ({ rv: 0, groups: ['SCard$DefaultReaders'] }),
      async getStatusChange() {
        return { rv: SCARD.E_UNEXPECTED, readerStates: [] };
      },
      cancel: () => 0,
      async connect(hContext, szReader, share, prefs) {
        if (!contexts.has(hContext)) return { rv: SCARD.E_INVALID_HANDLE, hCard: 0, dwActiveProtocol: 0 };
        if (share < 1 || share > 3) return { rv: SCARD.E_INVALID_VALUE, hCard: 0, dwActiveProtocol: 0 };
        const r = rm.readers.find((x) => x.name === szReader);
        if (!r) return { rv: SCARD.E_UNKNOWN_READER, hCard: 0, dwActiveProtocol: 0 };
        if (r.sharing === -1 || (share === 1 && r.sharing !== 0)) return { rv: SCARD.E_SHARING_VIOLATION, hCard: 0, dwActiveProtocol: 0 };
        if (share !== 3 && !r.atr) return { rv: SCARD.E_NO_SMARTCARD, hCard: 0, dwActiveProtocol: 0 };
        const proto = share === 3 && !r.atr ? 0 : prefs & 2 ? 2 : prefs & 1 ? 1 : -1;
        if (proto < 0) return { rv: SCARD.E_PROTO_MISMATCH, hCard: 0, dwActiveProtocol: 0 };
        const hCard = rm.nextHandle++;
        rm.cards.set(hCard, { reader: r, hContext, share, sessionId: id });
        r.sharing = share === 1 ? -1 : r.sharing + 1;
        if (proto) r.protocol = proto;
        rm.changed();
        return { rv: 0, hCard, dwActiveProtocol: proto };
      },
      async reconnect(hCard) {
        const c = own(hCard);
        if (!c) return { rv: SCARD.E_INVALID_HANDLE, dwActiveProtocol: 0 };
        return { rv: 0, dwActiveProtocol: c.reader.protocol };
      },
      async disconnect(hCard) {
        const c = own(hCard);
        if (!c) return SCARD.E_INVALID_HANDLE;
        rm.release(c, hCard);
        return 0;
      },
      async beginTransaction(hCard) {
        const c = own(hCard);
        if (!c) return SCARD.E_INVALID_HANDLE;
        while (c.reader.lockHolder !== 0 && c.reader.lockHolder !== hCard) {
          await new Promise<void>((resolve) => c.reader.lockWaiters.push(resolve));
          if (!rm.cards.has(hCard)) return SCARD.E_INVALID_HANDLE;
        }
        c.reader.lockHolder = hCard;
        return 0;
      },
      async endTransaction(hCard) {
        const c = own(hCard);
        if (!c) return SCARD.E_INVALID_HANDLE;
        if (c.reader.lockHolder !== hCard) return SCARD.E_NOT_TRANSACTED;
        rm.unlock(c.reader);
        return 0;
      },
      async transmit(hCard, _proto, apdu, cbRecvLength) {
        const c = own(hCard);
        if (!c) return { rv: SCARD.E_INVALID_HANDLE, ioRecvPciProtocol: 0, pbRecvBuffer: new Uint8Array(0) };
        if (!c.reader.atr) return { rv: SCARD.E_NO_SMARTCARD, ioRecvPciProtocol: 0, pbRecvBuffer: new Uint8Array(0) };
        const out = answer(apdu);
        if (out.length > cbRecvLength) return { rv: SCARD.E_INSUFFICIENT_BUFFER, ioRecvPciProtocol: 0, pbRecvBuffer: new Uint8Array(0) };
        return { rv: 0, ioRecvPciProtocol: c.reader.protocol, pbRecvBuffer: out };
      },
      async control(hCard, code, data) {
        if (!own(hCard)) return { rv: SCARD.E_INVALID_HANDLE, pbRecvBuffer: new Uint8Array(0) };
        if (code === CM_IOCTL_GET_FEATURE_REQUEST) return { rv: 0, pbRecvBuffer: new Uint8Array(0) };
        if (code === 0x42000001) return { rv: 0, pbRecvBuffer: data.slice() };
        return { rv: SCARD.E_UNSUPPORTED_FEATURE, pbRecvBuffer: new Uint8Array(0) };
      },
      async getAttrib(hCard, attr) {
        const c = own(hCard);
        if (!c) return { rv: SCARD.E_INVALID_HANDLE, pbAttr: new Uint8Array(0) };
        if (attr === 0x00090303) return { rv: 0, pbAttr: c.reader.atr ?? new Uint8Array(0) };
        if (attr === 0x7fff0003) return { rv: 0, pbAttr: new Uint8Array(Buffer.from(`${c.reader.name}\0`)) };
        return { rv: SCARD.E_UNSUPPORTED_FEATURE, pbAttr: new Uint8Array(0) };
      },
      async setAttrib(hCard) {
        return own(hCard) ? SCARD.E_NOT_TRANSACTED : SCARD.E_INVALID_HANDLE;
      },
      async status(hCard) {
        const c = own(hCard);
        if (!c) return { rv: SCARD.E_INVALID_HANDLE, szReaderName: '', dwState: 0, dwProtocol: 0, pbAtr: new Uint8Array(0) };
        return { rv: 0, szReaderName: c.reader.name, dwState: 0x34, dwProtocol: c.reader.protocol, pbAtr: c.reader.atr ?? new Uint8Array(0) };
      },
      async close() {
        for (const h of [...contexts]) await session.releaseContext(h);
        rm.openSessions.delete(id);
        rm.closedSessions.push(id);
      },
    };
    return session;
  }
}
