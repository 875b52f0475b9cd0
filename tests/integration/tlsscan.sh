#!/bin/sh
# TLS scan: testssl.sh against a tcp server agent and, with --starttls
# postgres, a postgresql one, each with the default (TLS 1.3) and with
# min_version = "1.2".  Any finding of severity LOW or above fails the
# test, except those that only say the certificates come from a private
# CA (listed below with why).  testssl looks names up even when told not
# to, so the whole case runs offline in a network namespace of its own.
if [ -z "${DBTLS_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		echo "tlsscan: SKIPPED: no network namespace here (unshare -n failed)"
		exit 0
	fi
	DBTLS_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
. "$(dirname "$0")/lib.sh"
command -v testssl >/dev/null || fail "testssl missing (scripts/deps.sh)"
make_pki

# Findings that concern a private CA's certificates, not the agent:
#   cert_revocation: the test leaves carry no CRL or OCSP URL (the agents
#     take a CRL file instead: tls.crl)
#   cert_crlDistributionPoints, cert_ocspURL, OCSP_stapling: the same
#   cert_certificateTransparency: a private CA logs to no CT log
#   cert_chain_of_trust, cert_trust: only if the scanner lacks the CA
EXEMPT='^(cert_revocation|cert_crlDistributionPoints|cert_ocspURL|OCSP_stapling|cert_certificateTransparency|cert_chain_of_trust|cert_trust)$'
# Not judged: testssl cannot test these against a listener that requires
# a client certificate, and says so as a WARN.
NOT_JUDGED='^(service|secure_client_renego|BREACH)$'

# scan NAME PORT [testssl args]: up to 8 tries (its first probe races the
# server's certificate_required alert now and then, more under load).
scan() {
	name=$1 port=$2
	shift 2
	ok=
	for try in 1 2 3 4 5 6 7 8; do
		rm -f "$T/$name.json"
		testssl --warnings batch --nodns none --color 0 --quiet \
			--add-ca "$PKI/ca.crt" --jsonfile "$T/$name.json" \
			-p -s -f -P -S -U "$@" "127.0.0.1:$port" >"$T/$name.out" 2>&1 || true
		[ -s "$T/$name.json" ] || continue
		jq -e '[.[] | select(.id == "scanProblem" or (.id == "optimal_proto" and .severity == "WARN"))] | length == 0' \
			"$T/$name.json" >/dev/null && ok=1 && break
		say "  $name: the scan did not connect (try $try)"
		sleep 1
	done
	[ -n "$ok" ] || fail "$name: no scan result: $(tail -n 5 "$T/$name.out")"
	bad=$(jq -r --arg ex "$EXEMPT" --arg nj "$NOT_JUDGED" '.[] |
		select(.severity == "LOW" or .severity == "MEDIUM" or .severity == "HIGH" or
		    .severity == "CRITICAL" or .severity == "FATAL") |
		select((.id | test($ex)) | not) | select((.id | test($nj)) | not) |
		"\(.severity) \(.id): \(.finding)"' "$T/$name.json")
	[ -z "$bad" ] || fail "$name: $bad"
	jq -e '[.[] | select(.id == "TLS1_3" and (.finding | test("^offered")))] | length == 1' \
		"$T/$name.json" >/dev/null || fail "$name: TLS 1.3 not offered"
}

DEAD=$(free_port)	# the database: never reached by a scan
for proto in tcp postgresql; do
	starttls=
	[ $proto = postgresql ] && starttls="--starttls postgres"
	for min in 1.3 1.2; do
		unset CPORT SPORT
		write_pair $proto "127.0.0.1:$DEAD"
		sed -i "s|ca.crt\"; };|ca.crt\"; min_version = \"$min\"; };|" "$T/server.conf"
		name=$proto$(echo $min | tr -d .)
		start_agent "$name" "$T/server.conf"
		say "$proto, min_version $min"
		# shellcheck disable=SC2086
		scan "$name" "$SPORT" $starttls
		if [ $min = 1.2 ]; then
			jq -e '[.[] | select(.id == "cipherorder_TLSv1_2" and
			    (.finding | test("^(ECDHE-[A-Z0-9-]*(GCM|CHACHA20-POLY1305)[A-Z0-9-]* ?)+$")))] |
			    length == 1' "$T/$name.json" >/dev/null ||
				fail "TLS 1.2 suites: $(jq -r '.[] | select(.id == "cipherorder_TLSv1_2") | .finding' "$T/$name.json")"
		else
			jq -e '[.[] | select(.id == "TLS1_2" and (.finding | test("^not offered")))] | length == 1' \
				"$T/$name.json" >/dev/null || fail "TLS 1.2 offered by default"
		fi
	done
done
pass
