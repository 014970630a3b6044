/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h - the entry points shared by the libFuzzer harnesses (fuzz_query,
 * fuzz_reply) and the plain corpus runner (run_corpus), which is built in
 * every build so gcc builds replay both corpora too.  Each harness file
 * defines its target as md_fuzz_*(), and LLVMFuzzerTestOneInput() calling
 * it unless compiled into the runner (MD_FUZZ_RUNNER), which links both.
 */
#ifndef MINIDNS_TESTS_FUZZ_H
#define MINIDNS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point: one input, 0 always (crashes abort). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One query message as a client sends it (fuzz_query.c). */
int md_fuzz_query(const uint8_t *data, size_t size);
/* One reply message as an upstream server sends it (fuzz_reply.c). */
int md_fuzz_reply(const uint8_t *data, size_t size);

#endif /* MINIDNS_TESTS_FUZZ_H */
