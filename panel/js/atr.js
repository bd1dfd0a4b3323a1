// @ts-check
// ATR decoding after ISO/IEC 7816-3 §8: TS, T0, the interface bytes TAi..TDi, historical bytes and TCK.

const FI = [372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0];
const DI = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0];

/** @param {number} b */
const x = (b) => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * @param {string} hex
 * @returns {{ byte: string, name: string, meaning: string }[]} one row per field, in ATR order
 */
export function decodeAtr(hex) {
  const bytes = (hex.match(/../g) ?? []).map((b) => parseInt(b, 16));
  /** @type {{ byte: string, name: string, meaning: string }[]} */
  const rows = [];
  const add = (/** @type {number[]} */ bs, /** @type {string} */ name, /** @type {string} */ meaning) =>
    rows.push({ byte: bs.map(x).join(' '), name, meaning });
  if (bytes.length < 2) return [{ byte: hex, name: 'ATR', meaning: 'too short to decode' }];

  let pos = 0;
  const ts = bytes[pos++];
  add([ts], 'TS', ts === 0x3b ? 'direct convention' : ts === 0x3f ? 'inverse convention' : 'invalid initial character');
  const t0 = bytes[pos++];
  const historicalCount = t0 & 0x0f;
  add([t0], 'T0', `${historicalCount} historical bytes; interface bytes follow: ${presentList(t0 >> 4, 1)}`);

  let y = t0 >> 4;
  let level = 1;
  let protocolOtherThanT0 = false;
  /** @type {number | null} */
  let lastProtocol = null;
  while (y !== 0 && pos + bitCount(y) <= bytes.length) {
    if (y & 1) add([bytes[pos]], `TA${level}`, meaningTA(level, bytes[pos++], lastProtocol));
    if (y & 2) add([bytes[pos]], `TB${level}`, meaningTB(level, bytes[pos++], lastProtocol));
    if (y & 4) add([bytes[pos]], `TC${level}`, meaningTC(level, bytes[pos++], lastProtocol));
    if (y & 8) {
      const td = bytes[pos++];
      const t = td & 0x0f;
      if (t !== 0) protocolOtherThanT0 = true;
      lastProtocol = t;
      add([td], `TD${level}`, `protocol T=${t}${t === 15 ? ' (global bytes)' : ''}; next: ${presentList(td >> 4, level + 1)}`);
      y = td >> 4;
    } else y = 0;
    level += 1;
  }
  if (y !== 0) add([], 'interface', `truncated: ${presentList(y, level)} announced but missing`);

  const historical = bytes.slice(pos, pos + historicalCount);
  if (historical.length > 0) add(historical, 'historical', describeHistorical(historical));
  pos += historical.length;
  if (historical.length < historicalCount) add([], 'historical', `truncated: ${historicalCount - historical.length} byte(s) missing`);

  if (protocolOtherThanT0) {
    if (pos < bytes.length) {
      let check = 0;
      for (let i = 1; i <= pos; i++) check ^= bytes[i];
      add([bytes[pos]], 'TCK', check === 0 ? 'check byte: correct (XOR of T0..TCK is 00)' : `check byte: WRONG (XOR is ${x(check)})`);
      pos += 1;
    } else add([], 'TCK', 'missing (a protocol other than T=0 is indicated)');
  }
  if (pos < bytes.length) add(bytes.slice(pos), 'extra', 'bytes after the end of the ATR');
  return rows;
}

/** @param {number} y */
function bitCount(y) {
  return (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1);
}

/** @param {number} y @param {number} level */
function presentList(y, level) {
  const names = [];
  if (y & 1) names.push(`TA${level}`);
  if (y & 2) names.push(`TB${level}`);
  if (y & 4) names.push(`TC${level}`);
  if (y & 8) names.push(`TD${level}`);
  return names.length > 0 ? names.join(' ') : 'none';
}

/** @param {number} level @param {number} b @param {number | null} protocol */
function meaningTA(level, b, protocol) {
  if (level === 1) {
    const fi = FI[b >> 4];
    const di = DI[b & 0x0f];
    return fi && di ? `Fi=${fi}, Di=${di} (${fi / di} clocks per bit)` : 'Fi/Di reserved';
  }
  if (level === 2) return `specific mode: T=${b & 0x0f}${b & 0x80 ? ', not changeable' : ''}${b & 0x10 ? ', implicit Fi/Di' : ''}`;
  if (protocol === 1) return `IFSC=${b} bytes`;
  if (protocol === 15) return `clock stop ${['not supported', 'state L', 'state H', 'no preference'][b >> 6]}; class ${classes(b & 0x3f)}`;
  return `0x${x(b)}`;
}

/** @param {number} level @param {number} b @param {number | null} protocol */
function meaningTB(level, b, protocol) {
  if (level <= 2) return b === 0 ? 'no programming voltage (VPP not connected)' : `programming voltage 0x${x(b)} (deprecated)`;
  if (protocol === 1) return `BWI=${b >> 4}, CWI=${b & 0x0f}`;
  return `0x${x(b)}`;
}

/** @param {number} level @param {number} b @param {number | null} protocol */
function meaningTC(level, b, protocol) {
  if (level === 1) return b === 255 ? 'extra guard time N=255 (minimum)' : `extra guard time N=${b}`;
  if (level === 2 && protocol === 0) return `waiting time integer WI=${b}`;
  if (protocol === 1) return `error detection: ${b & 1 ? 'CRC' : 'LRC'}`;
  return `0x${x(b)}`;
}

/** @param {number} bits */
function classes(bits) {
  const names = [];
  if (bits & 1) names.push('A (5 V)');
  if (bits & 2) names.push('B (3 V)');
  if (bits & 4) names.push('C (1.8 V)');
  return names.length > 0 ? names.join(', ') : 'none';
}

/** @param {number[]} hist */
function describeHistorical(hist) {
  const ascii = hist.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  const category = hist[0];
  const kind = category === 0x80 ? 'category 80: COMPACT-TLV objects'
    : category === 0x00 ? 'category 00: status indicator in the last three bytes'
      : category === 0x10 ? 'category 10: DIR data reference'
        : `proprietary (first byte ${x(category)})`;
  return `${kind}; text "${ascii}"`;
}
