// @ts-check
// PIN bytes never reach the console's stored history: the data field of VERIFY (20), CHANGE REFERENCE DATA (24)
// and RESET RETRY COUNTER (2C) becomes `??` per byte, as in the service's transcripts (docs/simulation.md). The panel
// loads plain browser modules, so this mirrors smcard/sim/transcript.ts maskedCommandHex; a decoder test holds
// the two to the same output.

const PIN_INS = new Set([0x20, 0x24, 0x2c]);

/**
 * @param {string} hex command APDU, hex digits only
 * @returns {{ hex: string, masked: boolean }}
 */
export function maskPinData(hex) {
  if (hex.length <= 10 || !PIN_INS.has(parseInt(hex.slice(2, 4), 16))) return { hex, masked: false };
  let dataStart = 5;
  let lc = parseInt(hex.slice(8, 10), 16);
  if (lc === 0 && hex.length >= 14) {
    dataStart = 7; // extended Lc: 00 hi lo
    lc = parseInt(hex.slice(10, 14), 16);
  }
  const end = Math.min(hex.length / 2, dataStart + lc);
  if (end <= dataStart) return { hex, masked: false };
  return { hex: hex.slice(0, dataStart * 2) + '??'.repeat(end - dataStart) + hex.slice(end * 2), masked: true };
}
