#!/bin/sh
# mkcerts.sh DIR: a throwaway PKI for the tests and the demo, made with the
# openssl command line (ECDSA P-256, SHA-256):
#   ca.crt/key        the trusted CA
#   server.crt/key    CN=dbserver, DNS:localhost, IP:127.0.0.1
#   app1.crt/key      CN=app1, DNS:app1.example.com, URI:spiffe://example.com/app1
#   intruder.crt/key  CN=intruder (trusted CA, not allowed)
#   expired.crt/key   CN=app1, validity ended in 2021
#   wrongname.crt/key CN=wrong, DNS:wrong.example.com (a server cert for another host)
#   rogue-ca.crt, rogue.crt/key  CN=app1 from a CA nobody trusts
#   expired-ca.crt/key  a CA whose validity ended in 2021
set -eu
d=$1
mkdir -p "$d"
cd "$d"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; chmod 600 "$1.key"; }

ca() { # ca NAME CN
	key "$1"
	openssl req -new -x509 -key "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE,pathlen:0 \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # leaf NAME CA CN SAN [ca-args...]
	name=$1 cacert=$2 cn=$3 san=$4
	shift 4
	key "$name"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	cat > "$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
EXT
	openssl x509 -req -in "$name.csr" -CA "$cacert.crt" -CAkey "$cacert.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 90 -extfile "$name.ext" \
		-out "$name.crt" "$@" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

ca ca "dbtls test CA"
ca rogue-ca "rogue CA"
leaf server ca dbserver "DNS:localhost,IP:127.0.0.1"
leaf app1 ca app1 "DNS:app1.example.com,URI:spiffe://example.com/app1"
leaf intruder ca intruder "DNS:intruder.example.com"
leaf wrongname ca wrong "DNS:wrong.example.com"
leaf rogue rogue-ca app1 "DNS:app1.example.com"

# An expired certificate needs explicit dates, which only "openssl ca" sets.
key expired
openssl req -new -key expired.key -subj "/CN=app1" -out expired.csr 2>/dev/null
mkdir -p ca-db
: > ca-db/index.txt
openssl rand -hex 16 > ca-db/serial
cat > ca-db/ca.cnf <<EOF2
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
EOF2
openssl ca -batch -config ca-db/ca.cnf -cert ca.crt -keyfile ca.key \
	-in expired.csr -out expired.crt -rand_serial \
	-startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1
# A CA whose validity ended in 2021.
key expired-ca
openssl req -new -key expired-ca.key -subj "/CN=expired CA" -out expired-ca.csr 2>/dev/null
openssl ca -batch -selfsign -config ca-db/ca.cnf -keyfile expired-ca.key \
	-in expired-ca.csr -out expired-ca.crt -rand_serial -extensions ca_ext \
	-startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1
rm -rf ca-db expired.csr expired-ca.csr
