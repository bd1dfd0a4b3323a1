# Secure PIN entry through a vscr PIN-pad reader with pyscard (libpcsclite): the part 10 feature list and TLV
# properties parsed by pyscard's own helpers, then VERIFY_PIN_DIRECT answered by a queued PIN, by keys typed
# over REST while this script waits in SCardControl, and by Cancel. One JSON object per step on stdout.
# Usage: /usr/bin/python3 pyscard-pinpad.py "<reader name>"   (PCSCLITE_CSOCK_NAME set)
import json
import struct
import sys

from smartcard.pcsc.PCSCPart10 import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    FEATURE_GET_TLV_PROPERTIES,
    FEATURE_IFD_PIN_PROPERTIES,
    FEATURE_VERIFY_PIN_DIRECT,
    parseFeatureRequest,
    parseTlvProperties,
)
from smartcard.scard import *  # noqa: F403 - the SCard* API and constants


def out(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def hx(data):
    return bytes(data).hex()


def verify_structure(timeout):
    apdu = [0x00, 0x20, 0x00, 0x81, 0x08] + [0xFF] * 8
    # bTimerOut, bTimerOut2, bmFormatString (bytes, pos 0, left, ASCII), bmPINBlockString (8-byte block),
    # bmPINLengthFormat, wPINMaxExtraDigit (min 4, max 8), bEntryValidationCondition (OK key), bNumberMessage,
    # wLangId, bMsgIndex, bTeoPrologue[3], ulDataLength
    head = struct.pack("<BBBBBHBBHB3sI", timeout, 0, 0x82, 0x08, 0x00, 0x0408, 0x02, 0x00, 0x0409, 0, b"\0\0\0", len(apdu))
    return list(head) + apdu


hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
hr, card, proto = SCardConnect(ctx, sys.argv[1], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
out("connect", rv=hr, protocol=proto)

hr, resp = SCardControl(card, CM_IOCTL_GET_FEATURE_REQUEST, [])
features = dict(parseFeatureRequest(list(resp))) if hr == 0 else {}
out("features", rv=hr, raw=hx(resp), names=sorted(features.keys()), codes={k: v for k, v in features.items()})

hr, resp = SCardControl(card, features["FEATURE_GET_TLV_PROPERTIES"], [])
props = parseTlvProperties(resp) if hr == 0 else {}
out("tlv", rv=hr, props={k: (v if isinstance(v, int) else str(v)) for k, v in props.items()})

hr, resp = SCardControl(card, features["FEATURE_IFD_PIN_PROPERTIES"], [])
out("pin-properties", rv=hr, raw=hx(resp))

verify = features["FEATURE_VERIFY_PIN_DIRECT"]
hr, resp = SCardControl(card, verify, verify_structure(0))
out("queued", rv=hr, response=hx(resp))

out("typing")  # the test now types the PIN over REST while SCardControl waits for the pad
hr, resp = SCardControl(card, verify, verify_structure(0))
out("typed", rv=hr, response=hx(resp))

out("cancelling")  # the test now presses Cancel over REST
hr, resp = SCardControl(card, verify, verify_structure(0))
out("cancelled", rv=hr, response=hx(resp))

hr, resp = SCardControl(card, verify, verify_structure(1))
out("timed-out", rv=hr, response=hx(resp))

out("disconnect", rv=SCardDisconnect(card, SCARD_LEAVE_CARD))
out("release", rv=SCardReleaseContext(ctx))
