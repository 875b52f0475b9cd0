#!/usr/bin/python3
"""csr_splice.py A.der B.der OUT.der: a certificate request with A's body
(subject and public key) and B's signature: a CSR "signed by another key".
"""
import sys


def tlv(b, i):
    """(start of value, end of element) of the DER element at i."""
    n = b[i + 1]
    if n < 0x80:
        return i + 2, i + 2 + n
    k = n & 0x7F
    length = int.from_bytes(b[i + 2:i + 2 + k], "big")
    return i + 2 + k, i + 2 + k + length


def parts(der):
    start, _ = tlv(der, 0)
    _, info_end = tlv(der, start)
    return der[start:info_end], der[info_end:tlv(der, 0)[1]]


def seq(body):
    n = len(body)
    if n < 0x80:
        head = bytes([0x30, n])
    else:
        nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x30, 0x80 | len(nb)]) + nb
    return head + body


a = open(sys.argv[1], "rb").read()
b = open(sys.argv[2], "rb").read()
info, _ = parts(a)
_, sig = parts(b)
open(sys.argv[3], "wb").write(seq(info + sig))
