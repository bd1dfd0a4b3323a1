// X.509 v3 certificates for provisioned keys and attestations, written in DER by hand (a few fixed structures,
// so no ASN.1 library): SHA-256 over the TBSCertificate (on the crypto device when there is one), signed with
// the issuer's key (the key itself when self-signed): PKCS#1 v1.5 for RSA, ECDSA for P-256/P-384.

import { createHash } from 'node:crypto';
import { berTlv } from '../ber-tlv.js';
import { ecdsaSignDigest, isEc, isRsa, rsaSignDigestInfo, spkiDer, type AsymmetricKey } from '../asymmetric/index.js';
import type { CardCrypto } from '../card-context.js';

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OID = 0x06;
const NULL = Uint8Array.of(0x05, 0x00);
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

const OIDS = {
  sha256WithRSAEncryption: '2A864886F70D01010B',
  ecdsaWithSHA256: '2A8648CE3D040302',
  ecdsaWithSHA384: '2A8648CE3D040303',
  commonName: '550403',
  organizationName: '55040A',
  basicConstraints: '551D13',
  keyUsage: '551D0F',
} as const;

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface CertificateRequest {
  key: AsymmetricKey;
  commonName: string;
  organization?: string;
  /** Positive serial number bytes (the top bit is cleared). */
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** keyUsage bits (first byte): 80 digitalSignature, 20 keyEncipherment, 08 keyAgreement, 04 keyCertSign. */
  keyUsage: number;
  /** A CA certificate (basicConstraints cA). */
  ca?: boolean;
  /** Who signs; absent for a self-signed certificate. */
  issuer?: { commonName: string; organization?: string; key: AsymmetricKey };
}

export function selfSignedCertificate(req: CertificateRequest, crypto: CardCrypto | null): Promise<Uint8Array> {
  return makeCertificate(req, crypto);
}

export async function makeCertificate(req: CertificateRequest, crypto: CardCrypto | null): Promise<Uint8Array> {
  const key = req.issuer?.key ?? req.key;
  const p384 = key.algorithm === 'p384';
  const sigAlg = isRsa(key.algorithm)
    ? berTlv(SEQUENCE, oid(OIDS.sha256WithRSAEncryption), NULL)
    : berTlv(SEQUENCE, oid(p384 ? OIDS.ecdsaWithSHA384 : OIDS.ecdsaWithSHA256));
  if (!isRsa(key.algorithm) && !isEc(key.algorithm)) throw new RangeError(`no certificate signature for ${key.algorithm}`);
  const serial = Uint8Array.from(req.serial);
  serial[0] &= 0x7f;
  if (serial[0] === 0) serial[0] = 0x01;
  const nameOf = (n: { commonName: string; organization?: string }): Uint8Array =>
    berTlv(SEQUENCE, ...(n.organization ? [rdn(OIDS.organizationName, n.organization)] : []), rdn(OIDS.commonName, n.commonName));
  const subject = nameOf(req);
  const issuer = req.issuer ? nameOf(req.issuer) : subject;
  const extensions = berTlv(
    0xa3,
    berTlv(
      SEQUENCE,
      berTlv(SEQUENCE, oid(OIDS.basicConstraints), berTlv(0x01, [0xff]), berTlv(0x04, req.ca ? berTlv(SEQUENCE, berTlv(0x01, [0xff])) : berTlv(SEQUENCE))),
      berTlv(SEQUENCE, oid(OIDS.keyUsage), berTlv(0x01, [0xff]), berTlv(0x04, keyUsage(req.keyUsage))),
    ),
  );
  const tbs = berTlv(
    SEQUENCE,
    berTlv(0xa0, berTlv(INTEGER, [0x02])),
    berTlv(INTEGER, serial),
    sigAlg,
    issuer,
    berTlv(SEQUENCE, time(req.notBefore), time(req.notAfter)),
    subject,
    spkiDer(req.key),
    extensions,
  );
  let signature: Uint8Array;
  if (isRsa(key.algorithm)) {
    signature = rsaSignDigestInfo(key, Buffer.concat([SHA256_DIGEST_INFO, await sha256(tbs, crypto)]));
  } else {
    // P-384 pairs with SHA-384, which the device does not offer; node hashes that one.
    const digest = p384 ? createHash('sha384').update(tbs).digest() : await sha256(tbs, crypto);
    signature = ecdsaSignDigest(key, digest);
  }
  return berTlv(SEQUENCE, tbs, sigAlg, berTlv(BIT_STRING, [0x00], signature));
}

async function sha256(data: Uint8Array, crypto: CardCrypto | null): Promise<Uint8Array> {
  return crypto ? crypto.sha256(data) : createHash('sha256').update(data).digest();
}

function oid(hex: string): Uint8Array {
  return berTlv(OID, Buffer.from(hex, 'hex'));
}

function rdn(type: string, value: string): Uint8Array {
  return berTlv(SET, berTlv(SEQUENCE, oid(type), berTlv(UTF8_STRING, Buffer.from(value, 'utf8'))));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 ? berTlv(UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1')) : berTlv(GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}

/** KeyUsage BIT STRING with unused trailing bits counted. */
function keyUsage(bits: number): Uint8Array {
  let unused = 0;
  while (unused < 8 && !(bits & (1 << unused))) unused++;
  return berTlv(BIT_STRING, [unused === 8 ? 0 : unused, bits]);
}
