#!/usr/bin/python3
"""shortcert.py PKI NAME CN SECONDS: PKI/NAME.crt and PKI/NAME.key (0600),
an ECDSA P-256 leaf for CN signed by PKI/ca.crt + ca.key that expires
SECONDS from now, to watch what the agents do at a certificate's end."""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

d, name, cn, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ca = x509.load_pem_x509_certificate(open(d + "/ca.crt", "rb").read())
cakey = serialization.load_pem_private_key(open(d + "/ca.key", "rb").read(), None)
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(seconds=secs))
        .sign(cakey, hashes.SHA256()))
open(d + "/" + name + ".crt", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
fd = os.open(d + "/" + name + ".key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, key.private_bytes(serialization.Encoding.PEM,
                               serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()))
os.close(fd)
