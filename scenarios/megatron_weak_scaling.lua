-- The weak-scaling table of Narayanan et al. 2021 (SC21, arXiv 2104.04473,
-- Table 1), reproduced: GPT models from 1.7B to 1T parameters on DGX A100
-- 80GB nodes, each row simulated with the paper's tensor and pipeline
-- parallelism and global batch, and compared with the published TFLOP/s per
-- GPU (which counts the recomputation FLOPs: compare the hardware figure).
--
-- Each row's microbatch and interleaving are the authors' own, from the
-- script they published to reproduce the table (Megatron-LM
-- examples/sc21/run_table_1.sh, the reference's last columns); the same for
-- every row: full activation recomputation, Megatron's unfused attention
-- kernels, fp16.  The same as `clustersim validate megatron2021`, which the
-- test suite checks this script against.
--
-- usage: clustersim run scenarios/megatron_weak_scaling.lua [ROWS] [MBS]
--   ROWS: how many rows from the top (default all ten)
--   MBS: one microbatch size for every row instead of the script's

local rows_wanted = tonumber(arg[1] or "") or math.huge
local mbs_all = tonumber(arg[2] or "")

local published = reference("megatron2021_weak_scaling")
local out = {}
for i, row in ipairs(published) do
  if i > rows_wanted then break end
  local m = model{layers = row.layers, hidden = row.hidden, heads = row.attention_heads,
                  vocab = 51200, seq = 2048, dtype = "fp16"}
  local per_chunk = row.layers_per_virtual_stage
  local vpp = per_chunk > 0 and row.layers // row.pp // per_chunk or 1
  local r = estimate{
    system = "dgx-a100-80g", gpus = row.gpus, model = m,
    tp = row.tp, pp = row.pp, vpp = vpp, mbs = mbs_all or row.micro_batch,
    gbs = row.global_batch, recompute = "full", attention = "unfused",
    schedule = vpp > 1 and "interleaved" or "1f1b", framework = "megatron-2021",
  }
  local err = 100 * (r.hw_tflops_per_gpu - row.tflops_per_gpu) / row.tflops_per_gpu
  out[#out + 1] = {
    params_billion = row.params_billion, gpus = row.gpus, tp = row.tp, pp = row.pp,
    dp = row.gpus // (row.tp * row.pp), microbatches = r.microbatches,
    iteration_s = r.iteration_s, published_tflops = row.tflops_per_gpu,
    predicted_tflops = r.hw_tflops_per_gpu, error_percent = err, fits = r.fits,
  }
end

local abs_sum, within = 0, 0
for _, o in ipairs(out) do
  abs_sum = abs_sum + math.abs(o.error_percent)
  if math.abs(o.error_percent) <= 10 then within = within + 1 end
end

print("Megatron-LM weak scaling (Narayanan et al. 2021, Table 1), DGX A100 80GB")
report.table(out, {
  {key = "params_billion", head = "params", unit = "B"},
  "gpus", "tp", "pp", "dp", "microbatches",
  {key = "iteration_s", head = "iteration", unit = "s", format = "%.3f"},
  {key = "published_tflops", head = "published", unit = "TFLOP/s/GPU"},
  {key = "predicted_tflops", head = "simulated", unit = "TFLOP/s/GPU", format = "%.1f"},
  {key = "error_percent", head = "error", unit = "%", format = "%+.1f"},
  "fits",
})
print(string.format("mean absolute error %.1f%%; %d of %d rows within 10%%",
                    abs_sum / #out, within, #out))

report.csv("megatron_weak_scaling.csv", out,
           {"params_billion", "gpus", "tp", "pp", "dp", "microbatches", "iteration_s",
            "published_tflops", "predicted_tflops", "error_percent", "fits"})
