# Client side of test/bench/pcsc.bench.ts, run with /usr/bin/python3 (pyscard) and PCSCLITE_CSOCK_NAME:
#   apdu <reader> <count> <apdu-hex> [setup-apdu-hex...]   APDU round trips per second through SCardTransmit
#   apdu-rounds <reader> <count> <apdu-hex> [setup...]      the same, warmed up once, one round per "go" on stdin
#   notify <reader> <count>                                GetStatusChange wake-ups; the Node side inserts/removes
#   vicc <port>                                            a stand-in card for vsmartcard's vpcd (TCP_QUICKACK/NODELAY)
#   vicc-notify <reader> <count> <port>                    attach/detach that stand-in card and time the wake-ups
# Every result is one JSON line on stdout; times are CLOCK_MONOTONIC nanoseconds (same clock as Node's hrtime).
import json
import os
import random
import socket
import struct
import sys
import threading
import time

ATR = bytes.fromhex("3b80800101")


def emit(**fields):
    print(json.dumps(fields), flush=True)


def pcsc():
    from smartcard import scard  # imported lazily: the vicc mode needs no pyscard

    return scard


def connect(s, ctx, reader):
    deadline = time.monotonic() + 10
    while True:
        # A vpcd card shows up only after pcscd's next 400 ms poll: retry "no card" for a while.
        hr, card, proto = s.SCardConnect(ctx, reader, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
        if hr != s.SCARD_E_NO_SMARTCARD or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if hr != 0:
        emit(error="connect", rv=hr)
        sys.exit(1)
    return card, (s.SCARD_PCI_T1 if proto == s.SCARD_PROTOCOL_T1 else s.SCARD_PCI_T0)


def timed_round(s, card, pci, apdu, count):
    resp = []
    t0 = time.perf_counter()
    for _ in range(count):
        hr, resp = s.SCardTransmit(card, pci, apdu)
        if hr != 0:
            emit(error="transmit", rv=hr)
            sys.exit(1)
    dt = time.perf_counter() - t0
    emit(mode="apdu", count=count, seconds=dt, rate=count / dt, sw=bytes(resp[-2:]).hex())


def apdu_rate(reader, count, apdu_hex, setup, rounds_on_stdin=False):
    """One timed round, or (rounds_on_stdin) one round per "go" line until stdin closes, on one connection."""
    s = pcsc()
    hr, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    card, pci = connect(s, ctx, reader)
    for h in setup:
        s.SCardTransmit(card, pci, list(bytes.fromhex(h)))
    apdu = list(bytes.fromhex(apdu_hex))
    # Warm up both ends first: a JIT-compiled server (vscr) is several times slower for its first few thousand calls.
    for _ in range(max(3000, count // 4)):
        hr, resp = s.SCardTransmit(card, pci, apdu)
    if rounds_on_stdin:
        emit(ready=True)
        for line in sys.stdin:
            if line.strip() == "go":
                timed_round(s, card, pci, apdu, count)
    else:
        timed_round(s, card, pci, apdu, count)
    s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)
    s.SCardReleaseContext(ctx)


def current_state(s, ctx, reader):
    hr, states = s.SCardGetStatusChange(ctx, 0, [(reader, s.SCARD_STATE_UNAWARE)])
    return states[0][1] & ~s.SCARD_STATE_CHANGED


def notify(reader, count):
    s = pcsc()
    hr, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    for i in range(count):
        state = current_state(s, ctx, reader)
        emit(ready=i, state=state)
        called = time.monotonic_ns()
        hr, states = s.SCardGetStatusChange(ctx, 10000, [(reader, state)])
        emit(woken=i, t=time.monotonic_ns(), called=called, rv=hr, state=states[0][1])
    s.SCardReleaseContext(ctx)


def quick(sock):
    # Linux only: acknowledge at once so vpcd's two-send() messages are not held back by Nagle + delayed ACK.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        quick(sock)
        if not chunk:
            raise ConnectionError("vpcd closed")
        buf += chunk
    return buf


def serve_card(sock, stop):
    """The vpcd protocol (docs/vpcd-protocol.md §2): 2-byte big-endian length, 1-byte control or an APDU."""
    while not stop.is_set():
        try:
            (n,) = struct.unpack("!H", recv_exact(sock, 2))
            msg = recv_exact(sock, n)
        except (ConnectionError, OSError):
            return
        if n == 1:
            if msg[0] == 0x04:
                sock.sendall(struct.pack("!H", len(ATR)) + ATR)
            continue
        if msg[1:2] == b"\x84":
            resp = os.urandom(msg[4] if len(msg) > 4 else 8) + b"\x90\x00"
        else:
            resp = b"\x90\x00"
        sock.sendall(struct.pack("!H", len(resp)) + resp)


def attach(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quick(sock)
    return sock


def vicc(port):
    stop = threading.Event()
    while True:
        try:
            sock = attach(port)
        except OSError:
            time.sleep(0.05)
            continue
        emit(vicc="attached", port=port)
        serve_card(sock, stop)
        sock.close()


def vicc_notify(reader, count, port):
    s = pcsc()
    hr, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    for i in range(count):
        for inserting in (True, False):
            state = current_state(s, ctx, reader)
            result = {}

            def monitor():
                hr, states = s.SCardGetStatusChange(ctx, 10000, [(reader, state)])
                result["t"] = time.monotonic_ns()
                result["rv"] = hr
                result["state"] = states[0][1]

            watcher = threading.Thread(target=monitor)
            watcher.start()
            time.sleep(0.05 + random.random() * 0.4)  # random phase against pcscd's 400 ms polling
            if inserting:
                stop = threading.Event()
                sock = attach(port)
                t0 = time.monotonic_ns()
                server = threading.Thread(target=serve_card, args=(sock, stop), daemon=True)
                server.start()
            else:
                t0 = time.monotonic_ns()
                stop.set()
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            watcher.join(15)
            emit(cycle=i, inserting=inserting, ms=(result.get("t", t0) - t0) / 1e6, rv=result.get("rv"), state=result.get("state"))
            time.sleep(0.2)
    s.SCardReleaseContext(ctx)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "apdu":
        apdu_rate(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
    elif mode == "apdu-rounds":
        apdu_rate(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:], rounds_on_stdin=True)
    elif mode == "notify":
        notify(sys.argv[2], int(sys.argv[3]))
    elif mode == "vicc":
        vicc(int(sys.argv[2]))
    elif mode == "vicc-notify":
        vicc_notify(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")
