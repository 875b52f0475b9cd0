/* SPDX-License-Identifier: MIT */
/* rotate.h: dbtls-certs rotate: fresh keys and leaves for an agent. */
#ifndef CERTS_ROTATE_H
#define CERTS_ROTATE_H

/*
 * rotate_main(argc, argv): "rotate --config FILE --ca DIR [--days N]
 * [--reload] [--dry-run]".  0 on success, 2 on any error.
 */
int rotate_main(int argc, char **argv);

#endif
