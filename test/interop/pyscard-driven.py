# A pyscard (libpcsclite) client driven line by line from stdin, so a test can arm faults between calls:
# each JSON command on stdin gets one JSON answer on stdout. Run with /usr/bin/python3, PCSCLITE_CSOCK_NAME set.
# Commands: {"op": "connect", "reader": name} | {"op": "transmit", "apdu": hex} | {"op": "status"}
#           | {"op": "reconnect"} | {"op": "disconnect"} | {"op": "wait", "reader": name, "state": n, "timeout": ms}
#           | {"op": "list"} | {"op": "quit"}
import json
import sys

from smartcard.scard import *  # noqa: F403 - the SCard* API and constants

hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
card = None
proto = 0


def answer(**fields):
    print(json.dumps(fields), flush=True)


answer(op="ready", rv=hr)
for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd["op"]
    if op == "connect":
        hr, new_card, new_proto = SCardConnect(ctx, cmd["reader"], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
        # The handle of a failed connect is garbage: pyscard's SCardDisconnect fails on it with a SystemError.
        if hr == 0:
            card, proto = new_card, new_proto
        answer(op=op, rv=hr, protocol=new_proto if hr == 0 else 0)
    elif op == "transmit":
        pci = SCARD_PCI_T1 if proto == SCARD_PROTOCOL_T1 else SCARD_PCI_T0
        hr, resp = SCardTransmit(card, pci, list(bytes.fromhex(cmd["apdu"])))
        answer(op=op, rv=hr, response=bytes(resp).hex() if hr == 0 else "")
    elif op == "status":
        hr, name, state, sproto, atr = SCardStatus(card)
        answer(op=op, rv=hr, state=state)
    elif op == "reconnect" and card is None:
        answer(op=op, rv=SCARD_E_INVALID_HANDLE, protocol=0)
    elif op == "reconnect":
        hr, proto = SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD)
        answer(op=op, rv=hr, protocol=proto)
    elif op == "disconnect":
        if card is None:
            answer(op=op, rv=SCARD_E_INVALID_HANDLE)
        else:
            answer(op=op, rv=SCardDisconnect(card, SCARD_LEAVE_CARD))
            card = None
    elif op == "wait":
        hr, states = SCardGetStatusChange(ctx, cmd["timeout"], [(cmd["reader"], cmd["state"])])
        answer(op=op, rv=hr, state=states[0][1] if hr == 0 else 0)
    elif op == "list":
        # pyscard sizes the list with one SCardListReaders call and fills it with a second; a reader plugged in
        # between makes the second fail SCARD_E_INSUFFICIENT_BUFFER, and pyscard then decodes its unfilled buffer
        # (SystemError from a UnicodeDecodeError; seen under load while an unplugged reader came back). pcscd gives
        # the same race; ask again, as an application would.
        for attempt in range(5):
            try:
                hr, readers = SCardListReaders(ctx, [])
                break
            except SystemError:
                if attempt == 4:
                    raise
        answer(op=op, rv=hr, readers=readers if hr == 0 else [])
    elif op == "quit":
        break
answer(op="release", rv=SCardReleaseContext(ctx))
