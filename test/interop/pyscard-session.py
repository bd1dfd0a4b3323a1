# A pyscard (libpcsclite 1.9.9) session against vscr's socket; prints one JSON object per step for the test.
# Run with /usr/bin/python3 and PCSCLITE_CSOCK_NAME set. Steps after "waiting" block until the test inserts a card.
import json
import sys
import threading
import time

from smartcard.scard import *  # noqa: F403 - the SCard* API and constants

SELECT_CRYPTO = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x76, 0x73, 0x63, 0x72, 0x01]
HASH_ABC = [0x00, 0x2A, 0x90, 0x80, 0x03, 0x61, 0x62, 0x63, 0x00]
ATTR_FRIENDLY_NAME = 0x7FFF0003


def out(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def hx(data):
    return bytes(data).hex()


hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
out("establish", rv=hr, valid=SCardIsValidContext(ctx))
hr, readers = SCardListReaders(ctx, [])
out("list", rv=hr, readers=readers)

hr, card, proto = SCardConnect(ctx, readers[0], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
out("connect", rv=hr, protocol=proto)

hr, name, state, sproto, atr = SCardStatus(card)
out("status", rv=hr, reader=name, state=state, protocol=sproto, atr=hx(atr))

out("begin", rv=SCardBeginTransaction(card))
hr, resp = SCardTransmit(card, SCARD_PCI_T1 if proto == SCARD_PROTOCOL_T1 else SCARD_PCI_T0, SELECT_CRYPTO)
out("select", rv=hr, response=hx(resp))
hr, resp = SCardTransmit(card, SCARD_PCI_T1 if proto == SCARD_PROTOCOL_T1 else SCARD_PCI_T0, HASH_ABC)
out("hash", rv=hr, response=hx(resp))
out("end", rv=SCardEndTransaction(card, SCARD_LEAVE_CARD))

for label, attr in (("atr", SCARD_ATTR_ATR_STRING), ("vendor", SCARD_ATTR_VENDOR_NAME), ("friendly", ATTR_FRIENDLY_NAME)):
    hr, value = SCardGetAttrib(card, attr)
    out("attrib", name=label, rv=hr, value=hx(value) if hr == 0 else "")

hr, features = SCardControl(card, SCARD_CTL_CODE(3400), [])
out("control", rv=hr, response=hx(features) if hr == 0 else "")

hr, proto2 = SCardReconnect(card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_RESET_CARD)
out("reconnect", rv=hr, protocol=proto2)
pci = SCARD_PCI_T1 if proto2 == SCARD_PROTOCOL_T1 else SCARD_PCI_T0
SCardTransmit(card, pci, SELECT_CRYPTO)
hr, resp = SCardTransmit(card, pci, HASH_ABC)
out("hash-after-reset", rv=hr, response=hx(resp))
out("disconnect", rv=SCardDisconnect(card, SCARD_UNPOWER_CARD))

# Cancel: another thread cancels a GetStatusChange that would otherwise wait 30 s.
hr, states = SCardGetStatusChange(ctx, 0, [(readers[1], SCARD_STATE_UNAWARE)])
current = states[0][1] & ~SCARD_STATE_CHANGED
done = threading.Event()


def keep_cancelling():
    # SCardCancel is a no-op until the wait has started, so repeat until the main thread is back.
    while not done.wait(0.05):
        SCardCancel(ctx)


canceller = threading.Thread(target=keep_cancelling)
canceller.start()
hr, states = SCardGetStatusChange(ctx, 30000, [(readers[1], current)])
done.set()
canceller.join()
out("cancelled", rv=hr)

# Wait for the test to insert a card in reader 1 over REST.
hr, states = SCardGetStatusChange(ctx, 0, [(readers[1], SCARD_STATE_UNAWARE)])
current = states[0][1] & ~SCARD_STATE_CHANGED
out("waiting", state=current)
t0 = time.monotonic()
hr, states = SCardGetStatusChange(ctx, 30000, [(readers[1], current)])
out("woken", rv=hr, state=states[0][1], atr=hx(states[0][2]), ms=round((time.monotonic() - t0) * 1000))

out("release", rv=SCardReleaseContext(ctx))
sys.exit(0)
