/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * run_corpus.c - replay the fuzz corpora without libFuzzer, so every build
 * (gcc included) runs every harness under make check: the corpus of each
 * target (corpus/query/ through md_fuzz_query(), corpus/config/ through
 * md_fuzz_config(), ...: the table targets[]).
 * Every file of each corpus folder is fed to its target as is, then in
 * MUTATIONS deterministic variants (bit flips, byte changes, truncation,
 * insertion, deletion, header word changes) from a fixed-seed xorshift
 * generator, so a failure is reproducible.
 *
 * usage: run_corpus [[TARGET:]DIR...]   (TARGET as in targets[] below; a
 * bare DIR is a query corpus; default: ROOT/TARGET for every target, ROOT
 * being $MD_FUZZ_CORPUS or the folder compiled in as MD_FUZZ_CORPUS;
 * $MD_FUZZ_LAST=FILE keeps the input running in FILE, so a crash's is
 * left there)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef MD_FUZZ_CORPUS
#define MD_FUZZ_CORPUS "tests/fuzz/corpus"
#endif

#define MUTATIONS 300
#define INPUT_MAX 65536 /* the text targets' seeds are larger than messages */

typedef int (*fuzz_target)(const uint8_t *data, size_t size);

static uint32_t prng_state = 0x2026b127u;

/* xorshift32: deterministic, no libc PRNG. */
static uint32_t
prng(void)
{
	uint32_t x = prng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	prng_state = x;
	return x;
}

/* One mutation of in[0..len) into buf; returns the new length. */
static size_t
mutate(const uint8_t *in, size_t len, uint8_t *buf)
{
	size_t n = len, pos;
	unsigned rounds = 1 + prng() % 4;

	memcpy(buf, in, len);
	for (unsigned r = 0; r < rounds; r++) {
		pos = n ? prng() % n : 0;
		switch (prng() % 7) {
		case 0: /* flip one bit */
			if (n)
				buf[pos] ^= (uint8_t)(1u << (prng() % 8));
			break;
		case 1: /* set one byte, often to an edge value */
			if (n) {
				static const uint8_t edge[] = {0x00, 0x01, 0x3f,
				    0x40, 0x7f, 0x80, 0xc0, 0xff};

				buf[pos] = prng() % 2 ? (uint8_t)prng()
						      : edge[prng() % 8];
			}
			break;
		case 2: /* truncate */
			n = pos;
			break;
		case 3: /* insert a byte */
			if (n < INPUT_MAX) {
				memmove(buf + pos + 1, buf + pos, n - pos);
				buf[pos] = (uint8_t)prng();
				n++;
			}
			break;
		case 4: /* delete a byte */
			if (n) {
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
			}
			break;
		case 5: /* change one header word (flags, counts) */
			if (n >= 12) {
				pos = 2 + 2 * (prng() % 5);
				buf[pos] = (uint8_t)prng();
				buf[pos + 1] = (uint8_t)(prng() % 4);
			}
			break;
		case 6: /* a compression pointer somewhere */
			if (n >= 2) {
				pos = pos + 1 < n ? pos : n - 2;
				buf[pos] = (uint8_t)(0xc0 | (prng() % 2));
				buf[pos + 1] = (uint8_t)(prng() % (n + 4));
			}
			break;
		}
	}
	return n;
}

/* With $MD_FUZZ_LAST set, each input is written to that file before it
 * runs, so the one that crashed is left there. */
static void
keep_input(const uint8_t *data, size_t len)
{
	static const char *last;
	FILE *fp;

	if (last == NULL)
		last = getenv("MD_FUZZ_LAST") ? getenv("MD_FUZZ_LAST") : "";
	if (last[0] == '\0')
		return;
	fp = fopen(last, "wb");
	if (fp == NULL)
		return;
	fwrite(data, 1, len, fp);
	fclose(fp);
}

static int
run_file(fuzz_target target, const char *path, unsigned long *runs)
{
	static uint8_t in[INPUT_MAX], buf[INPUT_MAX + 8];
	FILE *fp = fopen(path, "rb");
	size_t len;

	if (fp == NULL) {
		fprintf(stderr, "run_corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	len = fread(in, 1, sizeof(in), fp);
	fclose(fp);
	keep_input(in, len);
	target(in, len);
	(*runs)++;
	for (unsigned i = 0; i < MUTATIONS; i++) {
		size_t n = mutate(in, len, buf);

		keep_input(buf, n);
		target(buf, n);
		(*runs)++;
	}
	return 0;
}

static int
run_dir(fuzz_target target, const char *dir, unsigned long *files,
    unsigned long *runs)
{
	struct dirent **names = NULL;
	char path[4096];
	int n, rc = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "run_corpus: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(
			    path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (run_file(target, path, runs) != 0)
				rc = -1;
			else
				(*files)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The targets, by the name of their corpus folder (tests/fuzz/corpus/NAME). */
static const struct {
	const char *name;
	fuzz_target fn;
} targets[] = {
    {"query", md_fuzz_query},
    {"reply", md_fuzz_reply},
    {"config", md_fuzz_config},
    {"zone_yaml", md_fuzz_zone_yaml},
    {"zone_file", md_fuzz_zone_file},
    {"k8s", md_fuzz_k8s},
    {"nsec", md_fuzz_nsec},
    {"dnssec", md_fuzz_dnssec},
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

/* One corpus: "NAME:DIR" for a target of the table, or a bare DIR
 * (query). */
static int
run_arg(const char *arg, unsigned long *files, unsigned long *runs)
{
	unsigned long before = *files;
	fuzz_target fn = md_fuzz_query;
	const char *dir = arg;
	int rc;

	for (size_t i = 0; i < NTARGETS; i++) {
		size_t len = strlen(targets[i].name);

		if (strncmp(arg, targets[i].name, len) == 0 &&
		    arg[len] == ':') {
			fn = targets[i].fn;
			dir = arg + len + 1;
			break;
		}
	}
	rc = run_dir(fn, dir, files, runs);
	if (rc == 0 && *files == before) {
		fprintf(stderr, "run_corpus: %s: no corpus files\n", arg);
		rc = -1;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const char *root = getenv("MD_FUZZ_CORPUS");
	char arg[4096];
	unsigned long files = 0, runs = 0;
	int rc = 0;

	if (root == NULL || root[0] == '\0')
		root = MD_FUZZ_CORPUS;
	if (argc < 2) {
		for (size_t i = 0; i < NTARGETS; i++) {
			snprintf(arg, sizeof(arg), "%s:%s/%s", targets[i].name,
			    root, targets[i].name);
			if (run_arg(arg, &files, &runs) != 0)
				rc = -1;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (run_arg(argv[i], &files, &runs) != 0)
			rc = -1;
	}
	printf("run_corpus: %lu files, %lu inputs (with %d mutations "
	       "each), %s\n",
	    files, runs, MUTATIONS, rc == 0 ? "no crash" : "errors");
	return rc == 0 ? 0 : 1;
}
