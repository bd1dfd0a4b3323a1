// An example card written in TypeScript: a counter applet. Load it with
//   vscr serve --card-module examples/counter-card.ts --card module:counter-card
// or `"cardModules": ["examples/counter-card.ts"]` in the config file, then insert it into another reader with
//   POST /v1/readers/1/module {"name": "module:counter-card"}
// A card module default-exports a class with the VirtualCard contract (smcard/card/contract.ts); the service
// constructs it with no arguments, once per insertion. Card errors are status words, never exceptions.

import type { VirtualCard } from '../smcard/card/contract.js';
import { buildAtr } from '../smcard/card/atr.js';

/** SELECT this AID first: F0 'v' 's' 'c' 'r' 02. */
export const COUNTER_AID = Uint8Array.of(0xf0, 0x76, 0x73, 0x63, 0x72, 0x02);

const SW_OK = [0x90, 0x00];
const sw = (hi: number, lo: number): Uint8Array => Uint8Array.of(hi, lo);

export default class CounterCard implements VirtualCard {
  /** T=1 only, historical bytes "count". */
  readonly atr = buildAtr({ protocols: [1], historical: new TextEncoder().encode('count') });
  readonly supportedProtocols = 2;
  readonly profile = 'counter-card';
  powered = false;
  private selected = false;
  /** Kept across resets, like an EEPROM counter; lost when the card object goes. */
  private counter = 0;

  async coldReset(): Promise<Uint8Array> {
    this.powered = true;
    this.selected = false; // resets clear volatile state
    return this.atr;
  }

  warmReset(): Promise<Uint8Array> {
    return this.coldReset();
  }

  async powerDown(): Promise<void> {
    this.powered = false;
    this.selected = false;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (apdu.length < 4) return sw(0x67, 0x00);
    const [cla, ins] = apdu;
    if (cla === 0x00 && ins === 0xa4) return this.select(apdu);
    if (cla !== 0x80) return sw(0x6e, 0x00);
    if (!this.selected) return sw(0x69, 0x85); // conditions of use: select the applet first
    switch (ins) {
      case 0x10: // INCREMENT: adds P2 (1 when P2 is 0) and returns the new value
        this.counter = (this.counter + (apdu[3] || 1)) >>> 0;
        return this.value();
      case 0x12: // GET
        return this.value();
      default:
        return sw(0x6d, 0x00);
    }
  }

  async flush(): Promise<void> {}

  private select(apdu: Uint8Array): Uint8Array {
    const lc = apdu[4] ?? 0;
    const aid = apdu.subarray(5, 5 + lc);
    this.selected = aid.length === COUNTER_AID.length && aid.every((b, i) => b === COUNTER_AID[i]);
    return this.selected ? Uint8Array.from(SW_OK) : sw(0x6a, 0x82);
  }

  private value(): Uint8Array {
    const out = new Uint8Array(6);
    new DataView(out.buffer).setUint32(0, this.counter);
    out.set(SW_OK, 4);
    return out;
  }
}
