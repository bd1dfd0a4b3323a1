// OpenPGP v4 fingerprints (RFC 4880 §12.2): packet bodies and fingerprints pinned against keys GnuPG 2.2.40 made
// on this card (gpg --export, fingerprints as gpg printed them), and the MPI bit counts of §3.2.

import { describe, expect, it } from 'vitest';
import { mpi, publicKeyPacketBody, v4Fingerprint } from '../../../../smcard/card/openpgp/fingerprint.js';
import { h, hex } from './support.js';

const CREATED = 0x6b1501b1;

describe('OpenPGP v4 fingerprints', () => {
  it('MPI bit counts ignore leading zero bytes', () => {
    expect(hex(mpi(h('010001')))).toBe('0011010001');
    expect(hex(mpi(h('0000FF')))).toBe('0008FF');
    expect(hex(mpi(h('40' + '00'.repeat(32))))).toBe('0107' + '40' + '00'.repeat(32));
  });

  it('Ed25519 signature key (EdDSA, 40-prefixed point)', () => {
    const point = h('CC94385E5293DDD06F38B37E6B104147185160D820AAA1512E5ECB2C72287C8D');
    const body = publicKeyPacketBody({ algorithm: 'ed25519', point }, 'sig', CREATED);
    expect(hex(body)).toBe('046B1501B116092B06010401DA470F01010740CC94385E5293DDD06F38B37E6B104147185160D820AAA1512E5ECB2C72287C8D');
    expect(hex(v4Fingerprint(body))).toBe('083A34BA251C48C473D3D8EC8390E8202ACB2509');
  });

  it('Cv25519 decryption key (ECDH with KDF parameters 03 01 08 07)', () => {
    const point = h('53F19AF4E4C63A9AA41D32EC6EDE174BC1334E93F79D1000DB0ECB12F28C0517');
    const body = publicKeyPacketBody({ algorithm: 'x25519', point }, 'dec', CREATED);
    expect(hex(v4Fingerprint(body))).toBe('D96E3956E61DB4969DD9D6492F3523313DCB7172');
  });

  it('RSA-2048 key (MPI n, MPI e)', () => {
    const n = h(
      'A215152D62B3FABD15BEFF9146332A9D39B4BCDAF524070E9B141859051E34285D7CEE23A350BBCAC2C8D18821B43AF750316367325806A72D606F9A4995C3BE4D1003D3692EC4FF3EBB8601AB39292F252B9C12B17BE13852F73BE47CD9BDB48A2880A86BAF640F8D8590F5D21F88C5696EBDB04576550881769C2DCFB8213CA93E88E5EC891360552CA9FC74C1A3DFA818DC821A890891812B35DD0CD00352173FD2B961056811C72004871CAE284488C7059F4A94FB6AC0A80A12FEB0772EB46E8C88AD0346BAC210470B3C78719AF539EE2664F87DCD9B73113AF03AB9E645E456F38AB04406E94EF2FE96DC0416AF9A4ABA93D9986DC17E962D1BE5AB51',
    );
    const body = publicKeyPacketBody({ algorithm: 'rsa', modulus: n, exponent: h('010001') }, 'sig', 0x6b15019f);
    expect(hex(body.subarray(0, 8))).toBe('046B15019F010800');
    expect(body).toHaveLength(269);
    expect(hex(v4Fingerprint(body))).toBe('25FF7D3F947D86C49545EA820B10A0DAD2B1732A');
  });
});
