/* checkpoint: the size of a training checkpoint and the time to take and
 * restore it, from the model, the layout and the node.
 *
 * Owns the checkpoint's content and its transfer times.  A checkpoint holds
 * what training needs to resume: the 16-bit (fp8: 8-bit) weights and the
 * optimizer state, fp32 master weights plus Adam's two moments (12 bytes
 * per parameter; memory.h).  Gradients are not saved.  Saving is fully
 * parallel (Megatron's distributed checkpoint, PyTorch DCP): each tensor-
 * and pipeline-parallel shard is written once, split evenly over its dp
 * replicas, so every GPU of stage s writes params_s (w + 12) / dp bytes.
 *
 * Times, with the node's figures (system.h):
 *   sync      max(total / storage write bandwidth, node bytes / node NIC
 *             bandwidth, snapshot): every rank writes at once, through its
 *             node's NICs, into storage of bounded aggregate bandwidth;
 *   snapshot  a GPU's bytes device-to-host over its share of the PCIe
 *             uplink (GPUs on one PCIe switch share it) and of host memory
 *             bandwidth: the stall of asynchronous and in-memory
 *             checkpoints.  With a device profile (calib.h) the uplink
 *             runs at the fitted copy_d2h_pinned bandwidth, plus its fixed
 *             time, instead of the link's datasheet rate;
 *   h2d       the same host-to-device (copy_h2d_pinned): the last step of
 *             both reloads;
 *   peer copy the node's bytes over its NICs to a peer host (in-memory);
 *   reload    max(total / storage read bandwidth, node bytes / NIC
 *             bandwidth) then h2d;
 *   memory reload  the replaced node's bytes from its peer over the NICs,
 *             then h2d (the other nodes reload from their own host memory,
 *             faster). */
#ifndef CS_CHECKPOINT_H
#define CS_CHECKPOINT_H

#include "cs_error.h"
#include "layout.h"
#include "model.h"
#include "system.h"

typedef struct ckpt_storage {
    double write_bytes_per_s;  /* shared storage, aggregate */
    double read_bytes_per_s;
} ckpt_storage;

typedef struct ckpt_cost {
    double total_bytes;        /* the whole checkpoint */
    double gpu_bytes;          /* the most one GPU writes */
    double node_bytes;         /* the most one node writes (its GPUs' shares) */
    double sync_s, snapshot_s, h2d_s, peer_copy_s, reload_s, memory_reload_s;
} ckpt_cost;

struct calib_profile;

/* The checkpoint of the layout (validated here) on nodes of type node;
 * profile: the GPU's fitted device profile, or NULL for the built-in
 * figures. */
int ckpt_cost_of(const model_desc *m, const layout_desc *l, const sys_node_type *node,
                 const ckpt_storage *st, const struct calib_profile *profile, ckpt_cost *out,
                 cs_err *err);

#endif
