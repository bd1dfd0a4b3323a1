# One secure PIN entry through a vscr PIN-pad reader with pyscard (libpcsclite): VERIFY_PIN_DIRECT for the
# default card's PIN (ASCII, 8-byte FF-padded block), answered by whatever the panel's keypad or queue gives.
# Prints one JSON line per step. Usage: /usr/bin/python3 pyscard-pinpad-verify.py "<reader>" (PCSCLITE_CSOCK_NAME set)
import json
import struct
import sys

from smartcard.pcsc.PCSCPart10 import CM_IOCTL_GET_FEATURE_REQUEST, parseFeatureRequest
from smartcard.scard import *  # noqa: F403 - the SCard* API and constants


def out(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


apdu = [0x00, 0x20, 0x00, 0x81, 0x08] + [0xFF] * 8
# bTimerOut 30 s, bTimerOut2, bmFormatString (bytes, pos 0, ASCII), bmPINBlockString (8 bytes), bmPINLengthFormat,
# wPINMaxExtraDigit (4..8), bEntryValidationCondition (OK key), bNumberMessage, wLangId, bMsgIndex, bTeoPrologue,
# ulDataLength
head = struct.pack("<BBBBBHBBHB3sI", 30, 0, 0x82, 0x08, 0x00, 0x0408, 0x02, 0x00, 0x0409, 0, b"\0\0\0", len(apdu))

hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
hr, card, proto = SCardConnect(ctx, sys.argv[1], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
out("connect", rv=hr)
hr, resp = SCardControl(card, CM_IOCTL_GET_FEATURE_REQUEST, [])
features = dict(parseFeatureRequest(list(resp)))
out("verifying")
hr, resp = SCardControl(card, features["FEATURE_VERIFY_PIN_DIRECT"], list(head) + apdu)
out("verified", rv=hr, response=bytes(resp).hex())
SCardDisconnect(card, SCARD_LEAVE_CARD)
SCardReleaseContext(ctx)
