// The APDU traffic a reader bus carried to its cards: plain counters the readers bump on the APDU path and any
// observer (the service's /metrics) reads when it wants them, so counting costs a few additions per APDU.

import type { VirtualCard } from '../card/contract.js';
import type { ApduCounts } from './contract.js';

export class ApduCounter implements ApduCounts {
  commands = 0;
  commandBytes = 0;
  responses = 0;
  responseBytes = 0;

  /** A command APDU is handed to the card (counted even if the card then fails). */
  command(apdu: Uint8Array): void {
    this.commands += 1;
    this.commandBytes += apdu.length;
  }

  /** The card answered. */
  response(response: Uint8Array): void {
    this.responses += 1;
    this.responseBytes += response.length;
  }

  /** `card.transmit`, counted; for the paths that hand the card on (faults), not the plain TRANSMIT. */
  async transmit(card: Pick<VirtualCard, 'transmit'>, apdu: Uint8Array, protocol: number): Promise<Uint8Array> {
    this.command(apdu);
    const response = await card.transmit(apdu, protocol);
    this.response(response);
    return response;
  }
}
