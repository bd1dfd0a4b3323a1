# A fixed pyscard session for the record/replay round trip: prints one JSON object with the ATR and every
# response in hex. Run with /usr/bin/python3 and PCSCLITE_CSOCK_NAME set; argv[1] is the reader name.
import json
import sys

from smartcard.scard import *  # noqa: F403 - the SCard* API and constants

COMMANDS = [
    [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x76, 0x73, 0x63, 0x72, 0x01],  # SELECT crypto applet
    [0x00, 0x2A, 0x90, 0x80, 0x03, 0x61, 0x62, 0x63, 0x00],  # PSO: HASH "abc"
    [0x00, 0x20, 0x00, 0x81, 0x04, 0x31, 0x32, 0x33, 0x34],  # VERIFY PIN 1234
    [0x00, 0x84, 0x00, 0x00, 0x08],  # GET CHALLENGE: random on a real card, recorded on a replay
    [0x00, 0xFF, 0x00, 0x00],  # unknown instruction
]

reader = sys.argv[1]
hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
assert hr == 0, SCardGetErrorMessage(hr)
hr, card, proto = SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
assert hr == 0, SCardGetErrorMessage(hr)
pci = SCARD_PCI_T1 if proto == SCARD_PROTOCOL_T1 else SCARD_PCI_T0
hr, name, state, sproto, atr = SCardStatus(card)
responses = []
for apdu in COMMANDS:
    hr, resp = SCardTransmit(card, pci, apdu)
    assert hr == 0, SCardGetErrorMessage(hr)
    responses.append(bytes(resp).hex())
hr, proto = SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD)
assert hr == 0, SCardGetErrorMessage(hr)
hr, resp = SCardTransmit(card, pci, COMMANDS[3])
responses.append(bytes(resp).hex())
SCardDisconnect(card, SCARD_UNPOWER_CARD)
SCardReleaseContext(ctx)
print(json.dumps({"atr": bytes(atr).hex(), "protocol": proto, "responses": responses}))
