/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h - the entry point shared by the libFuzzer harness (fuzz_query)
 * and the plain corpus runner (run_corpus), which is built in every build
 * so gcc builds replay the corpus too.
 */
#ifndef MINIDNS_TESTS_FUZZ_H
#define MINIDNS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point: one input, 0 always (crashes abort). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* MINIDNS_TESTS_FUZZ_H */
