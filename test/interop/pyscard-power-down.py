# Idle power-down as pcscd does it, seen from pyscard (libpcsclite 1.9.9): connect, SELECT, disconnect with
# SCARD_LEAVE_CARD, wait for the test's "go" on stdin (sent once the card is powered down), connect DIRECT.
# Prints one JSON object per step.
import json
import sys

from smartcard.scard import *  # noqa: F403 - the SCard* API and constants

SELECT_CRYPTO = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x76, 0x73, 0x63, 0x72, 0x01]
HASH_ABC = [0x00, 0x2A, 0x90, 0x80, 0x03, 0x61, 0x62, 0x63, 0x00]


def out(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def pci(proto):
    return SCARD_PCI_T1 if proto == SCARD_PROTOCOL_T1 else SCARD_PCI_T0


hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
hr, readers = SCardListReaders(ctx, [])
reader = readers[0]

hr, card, proto = SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
out("connect", rv=hr, protocol=proto)
hr, resp = SCardTransmit(card, pci(proto), SELECT_CRYPTO)
out("select", rv=hr, response=bytes(resp).hex())
out("disconnect", rv=SCardDisconnect(card, SCARD_LEAVE_CARD))

sys.stdin.readline()  # the test says "go" once the grace period has passed and the card is down

hr, card, proto = SCardConnect(ctx, reader, SCARD_SHARE_DIRECT, 0)
out("direct", rv=hr, protocol=proto)
out("direct-disconnect", rv=SCardDisconnect(card, SCARD_LEAVE_CARD))

hr, card, proto = SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
out("reconnect", rv=hr, protocol=proto)
hr, resp = SCardTransmit(card, pci(proto), HASH_ABC)
out("hash-unselected", rv=hr, response=bytes(resp).hex())
hr, resp = SCardTransmit(card, pci(proto), SELECT_CRYPTO)
out("reselect", rv=hr, response=bytes(resp).hex())
hr, resp = SCardTransmit(card, pci(proto), HASH_ABC)
out("hash", rv=hr, response=bytes(resp).hex())
out("release-disconnect", rv=SCardDisconnect(card, SCARD_LEAVE_CARD))
SCardReleaseContext(ctx)
