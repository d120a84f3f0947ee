/* Unit tests: component classes and their counts (faultmodel), and the
 * checkpoint's size and times from a layout (checkpoint).
 *   The default rates give back Llama 3's 419 interruptions on its job;
 *   components are counted per node of the system; a class without a rate
 *   never fails; a checkpoint holds 14 bytes per parameter (bf16 weights and
 *   fp32 Adam state), split evenly over the GPUs when stages are equal; its
 *   times follow the storage and the node's links. */
#include "checkpoint.h"
#include "faultmodel.h"
#include "memory.h"
#include "tap.h"

static void defaults_give_back_llama3(void)
{
    sys_system sys;
    CHECK(sys_from_catalog("dgx-h100", 2048, &sys, NULL) == 0);
    double count[FAULT_NCLASSES];
    fault_components(&sys, 16384, count);
    CHECK_REL(count[FAULT_GPU], 16384, 0);
    CHECK_REL(count[FAULT_SWITCH], 16384, 0); /* 8 NICs a node */
    CHECK_REL(count[FAULT_HOST], 2048, 0);
    fault_model fm;
    fault_model_default(&fm);
    goodput_job job = goodput_job_single(54 * 86400, 1, 0, 0, 0);
    fault_sources(&fm, count, &job);
    CHECK_EQ_INT(job.nsources, FAULT_NCLASSES);
    CHECK(job.src[FAULT_NIC].mtbf_s == 0); /* no rate: never */
    CHECK_REL(job.horizon_s / goodput_job_mtbf_s(&job), 419, 1e-9);
    CHECK(job.src[FAULT_GPU].needs_spare && !job.src[FAULT_SOFTWARE].needs_spare);
}

static void part_nodes_count_whole(void)
{
    sys_system sys;
    CHECK(sys_from_catalog("dgx-a100-80g", 4, &sys, NULL) == 0);
    double count[FAULT_NCLASSES];
    fault_components(&sys, 12, count); /* one node and a half */
    CHECK_REL(count[FAULT_HOST], 2, 0);
    CHECK_REL(count[FAULT_GPU], 12, 0);
    fault_class c;
    cs_err err;
    CHECK(fault_class_parse("gpu_memory", &c, &err) == 0 && c == FAULT_GPU_MEMORY);
    CHECK(fault_class_parse("cosmic", &c, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "'cosmic' is not a component class");
}

static void checkpoint_bytes(void)
{
    sys_system sys;
    model_desc m;
    CHECK(sys_from_catalog("dgx-h100", 16, &sys, NULL) == 0);
    CHECK(model_find("llama2-70b", &m, NULL) == 0);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = 8, l.pp = 4, l.dp = 4, l.mbs = 1, l.gbs = 64;
    ckpt_storage st = {1e12, 2e12};
    ckpt_cost c;
    cs_err err;
    CHECK(ckpt_cost_of(&m, &l, &sys.groups[0].node, &st, NULL, &c, &err) == 0);
    /* untied embeddings: the stages hold every parameter once, but for the
     * norms every tensor-parallel rank keeps (0.013% here) */
    CHECK_REL(c.total_bytes, model_params(&m) * 14, 1e-3);
    CHECK(c.total_bytes >= model_params(&m) * 14);
    double stage0 = memory_stage_params(&m, &l, 0) * 14 / l.dp;
    CHECK(c.gpu_bytes >= stage0 && c.gpu_bytes * 128 >= c.total_bytes);
    CHECK_REL(c.node_bytes, c.gpu_bytes * 8, 1e-12);
    printf("# llama2-70b: %.1f GB, %.2f GB per GPU; sync %.2f s, snapshot %.3f s, reload %.2f s\n",
           c.total_bytes / 1e9, c.gpu_bytes / 1e9, c.sync_s, c.snapshot_s, c.reload_s);
    CHECK_REL(c.sync_s, c.total_bytes / 1e12, 1e-9); /* storage-bound at 1 TB/s */
    CHECK(c.reload_s < c.sync_s); /* reading at 2 TB/s */
    CHECK(c.snapshot_s < c.sync_s && c.memory_reload_s < c.reload_s);
    /* twice the replicas: half the bytes per GPU, the same checkpoint */
    l.dp = 8, l.gbs = 128;
    ckpt_cost d;
    CHECK(ckpt_cost_of(&m, &l, &sys.groups[0].node, &st, NULL, &d, &err) == 0);
    CHECK_REL(d.total_bytes, c.total_bytes, 1e-12);
    CHECK_REL(d.gpu_bytes, c.gpu_bytes / 2, 1e-12);
    st.write_bytes_per_s = 0;
    CHECK(ckpt_cost_of(&m, &l, &sys.groups[0].node, &st, NULL, &d, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "storage bandwidths must be positive");
}

TAP_MAIN({"defaults_give_back_llama3", defaults_give_back_llama3},
         {"part_nodes_count_whole", part_nodes_count_whole}, {"checkpoint_bytes", checkpoint_bytes})
