/* chakra_private: between chakra.c (framing) and chakra_node.c (a node's
 * fields and attributes); nothing outside traces/chakra* includes it. */
#ifndef CS_CHAKRA_PRIVATE_H
#define CS_CHAKRA_PRIVATE_H

#include "chakra.h"
#include "et_def.pb-c.h"

#define CHAKRA_MAX_ATTRS 16

/* A node in protobuf form that borrows its strings and arrays from the
 * chakra_node it was made from (valid while that node is). */
typedef struct chakra_pb_node {
    ChakraProtoMsg__Node node;
    ChakraProtoMsg__AttributeProto attr[CHAKRA_MAX_ATTRS];
    ChakraProtoMsg__AttributeProto *attr_ptr[CHAKRA_MAX_ATTRS];
    ChakraProtoMsg__BoolList involved;
    protobuf_c_boolean involved_vals[64];
} chakra_pb_node;

/* Fills n (zeroed by the caller) from a decoded message; n->id is set
 * first, so that an error can name the node. */
int chakra_node_from_pb(const ChakraProtoMsg__Node *m, chakra_node *n, cs_err *err);

void chakra_node_to_pb(const chakra_node *n, chakra_pb_node *out);

#endif
