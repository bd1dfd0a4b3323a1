# Watches one reader with SCardGetStatusChange (pyscard over libpcsclite) and prints each change as a JSON line.
# Run with /usr/bin/python3 and PCSCLITE_CSOCK_NAME set; argv[1] is the reader name. Ends after it has seen a
# card arrive and leave again, or after 60 s.
import json
import sys
import time

from smartcard.scard import *  # noqa: F403 - the SCard* API and constants

reader = sys.argv[1]
hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
hr, states = SCardGetStatusChange(ctx, 0, [(reader, SCARD_STATE_UNAWARE)])
current = states[0][1] & ~SCARD_STATE_CHANGED
print(json.dumps({"step": "ready", "rv": hr, "present": bool(current & SCARD_STATE_PRESENT)}), flush=True)

seen_present = False
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    hr, states = SCardGetStatusChange(ctx, 5000, [(reader, current)])
    if hr == SCARD_E_TIMEOUT:
        continue
    current = states[0][1] & ~SCARD_STATE_CHANGED
    present = bool(current & SCARD_STATE_PRESENT)
    print(json.dumps({"step": "change", "rv": hr, "present": present, "atr": bytes(states[0][2]).hex()}), flush=True)
    if hr != SCARD_S_SUCCESS:
        break
    seen_present = seen_present or present
    if seen_present and not present:
        break
SCardReleaseContext(ctx)
