/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * yaml_doc.h - a thin layer over libyaml's document API for the YAML
 * readers (configuration, YAML zones): loading with "file:line: problem"
 * errors, scalar access and line numbers of nodes.
 */
#ifndef MINIDNS_YAML_DOC_H
#define MINIDNS_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

struct md_yaml {
	yaml_document_t doc;
	bool loaded;
	const char *file; /* for messages; not owned */
};

/*
 * Load the first document of 'text' (len bytes), or of the file 'path'
 * when text is NULL.  Returns 0, or MD_EPARSE / -errno with
 * "FILE:LINE: problem" in err.
 */
int md_yaml_load(struct md_yaml *y, const char *path, const char *text,
    size_t len, char *err, size_t errlen);
void md_yaml_free(struct md_yaml *y);
/*
 * A key given twice in one mapping anywhere in the document is an error
 * (YAML 1.2 requires keys to be unique; libyaml does not check, and the
 * second value silently won): returns 0, or MD_ECONFIG with
 * "FILE:LINE: KEY: given twice (first at line N)" in err.
 */
int md_yaml_check_unique_keys(struct md_yaml *y, char *err, size_t errlen);
/* The root node, or NULL for an empty document. */
yaml_node_t *md_yaml_root(struct md_yaml *y);
yaml_node_t *md_yaml_node(struct md_yaml *y, int index);
/* A scalar's text, or NULL when the node is not a scalar. */
const char *md_yaml_scalar(const yaml_node_t *n);
/* 1-based line of a node. */
unsigned md_yaml_line(const yaml_node_t *n);

#endif /* MINIDNS_YAML_DOC_H */
