/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h - the entry points shared by the libFuzzer harnesses (fuzz_query,
 * fuzz_reply, fuzz_config, fuzz_zone_yaml, fuzz_zone_file, fuzz_k8s,
 * fuzz_nsec, fuzz_dnssec) and
 * the plain corpus runner (run_corpus), which is built in every build so
 * gcc builds replay every corpus too.  Each harness file
 * defines its target as md_fuzz_*(), and LLVMFuzzerTestOneInput() calling
 * it unless compiled into the runner (MD_FUZZ_RUNNER), which links them all.
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
/* One configuration file (fuzz_config.c). */
int md_fuzz_config(const uint8_t *data, size_t size);
/* One YAML zone, one RFC 1035 zone file (fuzz_zone.c). */
int md_fuzz_zone_yaml(const uint8_t *data, size_t size);
int md_fuzz_zone_file(const uint8_t *data, size_t size);
/* Kubernetes watch events and lists, one JSON document a line
 * (fuzz_k8s.c). */
int md_fuzz_k8s(const uint8_t *data, size_t size);
/* One response whose NSEC/NSEC3 records are checked as proofs of its
 * question (fuzz_nsec.c). */
int md_fuzz_nsec(const uint8_t *data, size_t size);
/* An RRset, its RRSIGs and a DNSKEY set for the DNSSEC signature checks
 * (fuzz_dnssec.c). */
int md_fuzz_dnssec(const uint8_t *data, size_t size);

struct md_zone_set;
struct md_zone_result;
/* Abort unless the zone set keeps the zone store's promises; res is
 * scratch for lookups (fuzz_check.c). */
void md_fuzz_check_zones(
    const struct md_zone_set *zs, struct md_zone_result *res);

#endif /* MINIDNS_TESTS_FUZZ_H */
