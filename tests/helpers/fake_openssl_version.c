/* SPDX-License-Identifier: MIT */
/*
 * fake_openssl_version.c: LD_PRELOAD it to make a program see OpenSSL
 * 3.0.99, a release the takeover was not tested on (tests only).
 */
unsigned long OpenSSL_version_num(void);

unsigned long
OpenSSL_version_num(void)
{
	return 0x30000630UL;
}
