#!/usr/bin/env python3
"""ka_inject.py - the gateway's keepalive answers, taken off the wire and sent again.

  ka_inject.py sniff IFACE SRC_ADDR FRAME_FILE SECONDS
      wait for the first IPv4 SCTP-in-UDP frame from SRC_ADDR on IFACE (either
      direction) holding a HEARTBEAT-ACK whose information starts with "sctpgwKA";
      write the whole Ethernet frame, in hex, to FRAME_FILE. Exit 1 at the deadline.
  ka_inject.py replay IFACE FRAME_FILE
      send that frame again, byte for byte (a replayed genuine answer).
  ka_inject.py forge IFACE FRAME_FILE SCTP_SPORT SCTP_DPORT VTAG
      send a HEARTBEAT-ACK with our magic and a MAC that does not verify: the frame's
      Ethernet, IP and UDP addressing (the NAT's mapping), a new SCTP packet with the
      ports and tag given, the genuine information with its MAC bits flipped.

Frames go out on IFACE by a packet socket, as if the peer had sent them. Each command
prints one line saying what it saw or sent."""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import chunk, sctp  # noqa: E402 (next to this file)

MAGIC = b"sctpgwKA"
ETH_P_ALL = 0x0003
HB_ACK = 5


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def parse(frame):
    """(ip header, udp header, sctp packet) of an IPv4 UDP frame, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    tot = struct.unpack("!H", ip[2:4])[0]
    return ip[:ihl], ip[ihl:ihl + 8], ip[ihl + 8:tot]


def our_ack(pkt):
    """The Heartbeat Info parameter (header and value) of the first HEARTBEAT-ACK chunk
    whose information starts with our magic, or None."""
    off = 12
    while off + 4 <= len(pkt):
        ctype, _flags, clen = struct.unpack("!BBH", pkt[off:off + 4])
        if clen < 4:
            return None
        if ctype == HB_ACK and pkt[off + 8:off + 16] == MAGIC:
            return pkt[off + 4:off + clen]
        off += (clen + 3) & ~3
    return None


def sniff(iface, src, out, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    want = socket.inet_aton(src)
    deadline = time.monotonic() + secs
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("sniff: no keepalive answer from %s on %s within %s s" % (src, iface, secs))
            return 1
        s.settimeout(left)
        try:
            frame = s.recv(65536)
        except socket.timeout:
            continue
        p = parse(frame)
        if p and p[0][12:16] == want and our_ack(p[2]) is not None:
            open(out, "w").write(frame.hex() + "\n")
            sport, dport = struct.unpack("!HH", p[1][:4])
            vtag = struct.unpack("!I", p[2][4:8])[0]
            print("sniff: keepalive answer %s:%d -> %s:%d, SCTP ports %d -> %d, tag %d" % (
                src, sport, socket.inet_ntoa(p[0][16:20]), dport,
                *struct.unpack("!HH", p[2][:4]), vtag))
            return 0


def send(iface, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


def forge(iface, frame, sport, dport, vtag):
    ip, udp, pkt = parse(frame)
    param = bytearray(our_ack(pkt))
    param[-8:] = bytes(b ^ 0xFF for b in param[-8:])  # the MAC: never verifies
    spkt = sctp(sport, dport, vtag, chunk(HB_ACK, 0, bytes(param)))
    ulen = 8 + len(spkt)
    iph = bytearray(ip)
    iph[2:4] = struct.pack("!H", len(ip) + ulen)
    iph[10:12] = b"\0\0"
    iph[10:12] = struct.pack("!H", csum16(bytes(iph)))
    uh = udp[:4] + struct.pack("!HH", ulen, 0)
    pseudo = bytes(iph[12:20]) + struct.pack("!BBH", 0, 17, ulen)
    uc = csum16(pseudo + uh + spkt) or 0xFFFF
    uh = uh[:6] + struct.pack("!H", uc)
    send(iface, frame[:14] + bytes(iph) + uh + spkt)
    print("forge: HEARTBEAT-ACK with a bad MAC, UDP %d -> %d, SCTP ports %d -> %d, tag %d" % (
        *struct.unpack("!HH", udp[:4]), sport, dport, vtag))
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "sniff":
        return sniff(a[1], a[2], a[3], float(a[4]))
    if len(a) >= 3 and a[0] in ("replay", "forge"):
        frame = bytes.fromhex(open(a[2]).read().strip())
        if a[0] == "replay" and len(a) == 3:
            send(a[1], frame)
            print("replay: %d-byte frame sent again" % len(frame))
            return 0
        if a[0] == "forge" and len(a) == 6:
            return forge(a[1], frame, int(a[3]), int(a[4]), int(a[5]))
    sys.exit("usage: see the docstring")


if __name__ == "__main__":
    sys.exit(main())
