local r = estimate{system = "dgx2-v100", gpus = 16, model = "megatron-1.7b", tp = 1, mbs = 4,
                   gbs = 64, zero = 3, recompute = "full", dtype = "fp16", offload = "all",
                   offload_engine = "deepspeed-2021", mode = "sim"}
print(r.iteration_s)
local ok, e = pcall(estimate, {system = "dgx2-v100", gpus = 16, model = "megatron-1.7b", tp = 1,
                    pp = 2, mbs = 4, gbs = 64, zero = 3, recompute = "full", offload = "all",
                    offload_engine = "deepspeed-2021"})
print(ok, e)
