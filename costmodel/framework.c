/* framework: the profiles of the training code versions (see framework.h). */
#include "framework.h"

#include "units.h"

static const framework_profile profiles[] = {
    [FRAMEWORK_CORE] = {"megatron-core", 1, 0, 0.0, 28.0,
                        "Megatron-Core DDP overlap_grad_reduce; fused wgrad accumulation; "
                        "Adam 28 B/param"},
    [FRAMEWORK_2021] = {"megatron-2021", 0, 0, 6.0, 52.0,
                        "Megatron-LM aed2f75 (2021-04-11): model/distributed.py, training.py, "
                        "optimizer/optimizer.py"},
    [FRAMEWORK_2022] = {"megatron-2022", 0, 1, 0.0, 52.0,
                        "Megatron-LM 55ba1f7 (2022-05-26): mpu/layers.py async grad all-reduce, "
                        "gradient_accumulation_fusion"},
    [FRAMEWORK_2019] = {"megatron-2019", 0, 0, 0.0, 54.0,
                        "Megatron-LM f86bb67 (2019-12-26): fp16/fp16.py FP16_Optimizer, "
                        "training.py"},
};

static const char *const names[] = {"megatron-core", "megatron-2021", "megatron-2022",
                                    "megatron-2019"};

#define NPROFILES ((int)(sizeof profiles / sizeof profiles[0]))

const framework_profile *framework_of(framework_kind k)
{
    return (unsigned)k < (unsigned)NPROFILES ? &profiles[k] : &profiles[FRAMEWORK_CORE];
}

const char *framework_name(framework_kind k) { return framework_of(k)->name; }

double framework_grad_reduce_bytes(framework_kind k, int bf16_params)
{
    return bf16_params && k != FRAMEWORK_2019 ? 4.0 : 2.0;
}

int framework_parse(const char *text, const char *what, framework_kind *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, names, NPROFILES, &i, err) != 0)
        return -1;
    *out = (framework_kind)i;
    return 0;
}
