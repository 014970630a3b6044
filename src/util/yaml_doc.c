/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * yaml_doc.c - load a YAML document with libyaml and report its errors as
 * "file:line: problem".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidns/util.h"
#include "minidns/yaml_doc.h"

int
md_yaml_load(struct md_yaml *y, const char *path, const char *text, size_t len,
    char *err, size_t errlen)
{
	yaml_parser_t parser;
	FILE *fp = NULL;
	int rc = 0;

	memset(y, 0, sizeof(*y));
	y->file = path;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	if (text != NULL) {
		yaml_parser_set_input_string(
		    &parser, (const unsigned char *)text, len);
	} else {
		fp = fopen(path, "r");
		if (fp == NULL) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
			goto cleanup;
		}
		yaml_parser_set_input_file(&parser, fp);
	}
	if (!yaml_parser_load(&parser, &y->doc)) {
		snprintf(err, errlen, "%s:%zu: %s%s%s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "YAML syntax error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		rc = MD_EPARSE;
		goto cleanup;
	}
	y->loaded = true;
cleanup:
	yaml_parser_delete(&parser);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

struct key_at {
	const char *key;
	unsigned line;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key_at *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

int
md_yaml_check_unique_keys(struct md_yaml *y, char *err, size_t errlen)
{
	if (!y->loaded)
		return 0;
	for (yaml_node_t *n = y->doc.nodes.start; n < y->doc.nodes.top; n++) {
		size_t count, k = 0;
		struct key_at *keys;

		if (n->type != YAML_MAPPING_NODE)
			continue;
		count = (size_t)(n->data.mapping.pairs.top -
		    n->data.mapping.pairs.start);
		if (count < 2)
			continue;
		keys = calloc(count, sizeof(*keys));
		if (keys == NULL)
			return -ENOMEM;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = md_yaml_node(y, p->key);
			const char *s = kn != NULL ? md_yaml_scalar(kn) : NULL;

			if (s == NULL)
				continue;
			keys[k].key = s;
			keys[k++].line = md_yaml_line(kn);
		}
		/* sorted: a repeated key sits next to its first */
		qsort(keys, k, sizeof(*keys), key_cmp);
		for (size_t i = 1; i < k; i++) {
			if (strcmp(keys[i].key, keys[i - 1].key) != 0)
				continue;
			snprintf(err, errlen,
			    "%s:%u: %s: given twice (first at line %u)",
			    y->file != NULL ? y->file : "(text)", keys[i].line,
			    keys[i].key, keys[i - 1].line);
			free(keys);
			return MD_ECONFIG;
		}
		free(keys);
	}
	return 0;
}

void
md_yaml_free(struct md_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *
md_yaml_root(struct md_yaml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *
md_yaml_node(struct md_yaml *y, int index)
{
	return yaml_document_get_node(&y->doc, index);
}

const char *
md_yaml_scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

unsigned
md_yaml_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}
