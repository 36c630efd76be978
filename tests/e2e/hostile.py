#!/usr/bin/env python3
"""hostile.py - malformed SCTP for the gateway, by class, at full speed.

  hostile.py udp DST_ADDR DST_PORT COUNT SEEN_PORT REMOTE_PORT ITAG
      SCTP-in-UDP datagrams to the gateway's encapsulation port, from the current
      namespace, each from a random UDP source port.
  hostile.py native DST_ADDR COUNT SRC_PORT DST_PORT RTAG
      native SCTP (raw IP protocol 132) toward DST_ADDR, queued by the gateway.

Prints one line per class: "CLASS SENT". Every class is built so the gateway must drop
it; none may crash it, create state, or move a learned port."""
import os
import random
import socket
import struct
import sys

POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sctp(sport, dport, vtag, chunks, good_crc=True):
    pkt = struct.pack("!HHII", sport, dport, vtag, 0) + chunks
    crc = crc32c(pkt)
    if not good_crc:
        crc ^= 0x5A5A0001
    return pkt[:8] + struct.pack("<I", crc) + pkt[12:]


def chunk(ctype, flags, value):
    c = struct.pack("!BBH", ctype, flags, 4 + len(value)) + value
    return c + b"\0" * (-len(c) % 4)


def data_chunk(tsn, payload):
    return chunk(0, 3, struct.pack("!IHHI", tsn, 0, 0, 0) + payload)


def classes(seen, rport, tag, rnd):
    """(name, generator of packets) for every class of hostile input."""
    def random_bytes():
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))

    def truncated():
        full = sctp(rport, seen, tag, data_chunk(rnd.getrandbits(32), b"x" * 40))
        return full[: rnd.randint(0, 11)] if rnd.random() < 0.5 else full[: rnd.randint(12, 60)]

    def bad_crc():
        return sctp(rport, seen, tag, data_chunk(rnd.getrandbits(32), b"evil"), good_crc=False)

    def zero_tag():
        return sctp(rport, seen, 0, data_chunk(rnd.getrandbits(32), b"zero"))

    def chunk_overrun():
        c = struct.pack("!BBH", 0, 3, rnd.randint(100, 65535)) + b"\0" * 16
        return sctp(rport, seen, tag, c)

    def huge_init():
        params = b"".join(struct.pack("!HH4s", 5, 8, os.urandom(4)) for _ in range(170))
        init = struct.pack("!IIHHI", rnd.getrandbits(32) | 1, 65536, 10, 10, 1) + params
        return sctp(rnd.randint(1, 65535), rnd.choice([7, 22, seen]), 0, chunk(1, 0, init))

    def spoofed_tag():
        t = rnd.getrandbits(32) | 1
        if t == tag:
            t ^= 2
        return sctp(rport, seen, t, data_chunk(rnd.getrandbits(32), b"spoof"))

    return [("random_bytes", random_bytes), ("truncated", truncated), ("bad_crc", bad_crc),
            ("zero_tag", zero_tag), ("chunk_overrun", chunk_overrun),
            ("huge_init", huge_init), ("spoofed_tag", spoofed_tag)]


def main():
    rnd = random.Random(6951)
    mode = sys.argv[1]
    if mode == "udp":
        dst, dport, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        seen, rport, tag = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7], 0)
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
        cls = classes(seen, rport, tag, rnd)
        per = count // len(cls)
        for name, gen in cls:
            # Precompute a pool; sending is the part that must be fast.
            pool = [gen() for _ in range(min(per, 2000))]
            for i in range(per):
                try:
                    socks[i % 16].sendto(pool[i % len(pool)], (dst, dport))
                except OSError:
                    pass
            print(name, per, flush=True)
    elif mode == "native":
        dst, count = sys.argv[2], int(sys.argv[3])
        sport, dport, tag = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6], 0)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
        cls = [c for c in classes(dport, sport, tag, rnd) if c[0] != "huge_init"]
        per = count // len(cls)
        for name, gen in cls:
            pool = [gen() for _ in range(min(per, 1000))]
            for i in range(per):
                try:
                    # classes(seen=dport, rport=sport) writes sport -> dport.
                    s.sendto(pool[i % len(pool)], (dst, 0))
                except OSError:
                    pass
            print(name, per, flush=True)
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
