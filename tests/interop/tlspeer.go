// SPDX-License-Identifier: MIT
//
// tlspeer.go: Go's crypto/tls as an independent peer of the agents.
//
//	tlspeer client ADDR PKI MIB   dial ADDR as app1 with a key share
//	                              the server does not take (P-521), so a
//	                              HelloRetryRequest is forced; send MIB
//	                              MiB and read the echo; print "ok BYTES
//	                              hrr=yes|no" if the digests match
//	tlspeer server ADDR PKI       serve TLS 1.3 as the server
//	                              certificate, client certificate
//	                              required, P-256 only (so a client's
//	                              X25519 share gets a HelloRetryRequest);
//	                              echo each connection; print
//	                              "listening", then per connection
//	                              "echoed BYTES hrr=yes|no"
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// The random of a ServerHello that is a HelloRetryRequest (RFC 8446 4.1.3).
var hrrRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// watch keeps the first bytes read or written, where the hellos are.
type watch struct {
	net.Conn
	seen []byte
}

func (w *watch) keep(p []byte) {
	if len(w.seen) < 8192 {
		w.seen = append(w.seen, p...)
	}
}

func (w *watch) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.keep(p[:n])
	return n, err
}

func (w *watch) Write(p []byte) (int, error) {
	w.keep(p)
	return w.Conn.Write(p)
}

func (w *watch) hrr() string {
	if bytes.Contains(w.seen, hrrRandom) {
		return "yes"
	}
	return "no"
}

func config(pki, name string) *tls.Config {
	cert, err := tls.LoadX509KeyPair(pki+"/"+name+".crt", pki+"/"+name+".key")
	check(err)
	pem, err := os.ReadFile(pki + "/ca.crt")
	check(err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS13,
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlspeer:", err)
		os.Exit(1)
	}
}

func client(addr, pki string, mib int) {
	cfg := config(pki, "app1")
	cfg.CurvePreferences = []tls.CurveID{tls.CurveP521, tls.X25519}
	raw, err := net.Dial("tcp", addr)
	check(err)
	w := &watch{Conn: raw}
	host, _, _ := net.SplitHostPort(addr)
	cfg.ServerName = host
	c := tls.Client(w, cfg)
	check(c.Handshake())
	sent := sha256.New()
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		for i := 0; i < mib; i++ {
			if _, err := rand.Read(buf); err != nil {
				done <- err
				return
			}
			sent.Write(buf)
			if _, err := c.Write(buf); err != nil {
				done <- err
				return
			}
		}
		done <- c.CloseWrite()
	}()
	got := sha256.New()
	n, err := io.Copy(got, c)
	check(err)
	check(<-done)
	if !bytes.Equal(sent.Sum(nil), got.Sum(nil)) || n != int64(mib)<<20 {
		fmt.Printf("MISMATCH %d bytes back\n", n)
		os.Exit(1)
	}
	fmt.Printf("ok %d hrr=%s\n", n, w.hrr())
}

func server(addr, pki string) {
	cfg := config(pki, "server")
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	ln, err := net.Listen("tcp", addr)
	check(err)
	fmt.Println("listening")
	for {
		raw, err := ln.Accept()
		check(err)
		go func(raw net.Conn) {
			w := &watch{Conn: raw}
			c := tls.Server(w, cfg)
			defer c.Close()
			if err := c.Handshake(); err != nil {
				fmt.Println("handshake failed:", err)
				return
			}
			n, err := io.Copy(c, c)
			if err == nil {
				err = c.CloseWrite()
			}
			if err != nil {
				fmt.Println("echo failed:", err)
				return
			}
			fmt.Printf("echoed %d hrr=%s\n", n, w.hrr())
		}(raw)
	}
}

func main() {
	if len(os.Args) < 4 {
		check(fmt.Errorf("usage: tlspeer client ADDR PKI MIB | server ADDR PKI"))
	}
	switch os.Args[1] {
	case "client":
		mib, err := strconv.Atoi(os.Args[4])
		check(err)
		client(os.Args[2], os.Args[3], mib)
	case "server":
		server(os.Args[2], os.Args[3])
	}
}
