/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unit_alloc.h - included first (-include) into a unit test that builds
 * a src/ file itself, with UNIT_TESTING defined: malloc, calloc, realloc
 * and free then go through cmocka's test allocator, so a leak, a double
 * free or a write past a block fails the test that caused it.
 *
 * The C library's headers come first: cmocka's macros must not rename
 * their declarations.
 */
#ifndef MINIDNS_TESTS_UNIT_ALLOC_H
#define MINIDNS_TESTS_UNIT_ALLOC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
