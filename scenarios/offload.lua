-- offload: what CPU and NVMe offload cost a model that does not fit one GPU.
-- Run: clustersim run scenarios/offload.lua
-- Llama 2 7B on one V100 32GB of a DGX-2 (the ZeRO-Offload papers' node):
-- no layout fits without offload; each offload below is estimated with its
-- memory verdict per tier (HBM, host DRAM, NVMe) and the tier that limits it,
-- then the search picks the fastest offload that fits.
local box = system{base = "dgx2-v100", nodes = 1}
local llama = model{base = "llama2-7b", seq = 2048}

local variants = {
  {name = "none", zero = 0},
  {name = "zero-offload (optimizer -> cpu)", zero = 2, offload = "optimizer"},
  {name = "zero-offload + DPU", zero = 2, offload = "optimizer", offload_dpu = true},
  {name = "zero-infinity (all -> cpu)", zero = 3, offload = "all"},
  {name = "zero-infinity (all -> nvme)", zero = 3, offload = "all", offload_to = "nvme"},
  {name = "fuyou (all -> nvme)", zero = 0, offload = "all", offload_to = "nvme",
   offload_engine = "fuyou", recompute = "none"},
}

local rows = {}
for _, v in ipairs(variants) do
  local l = layout{gpus = 1, mbs = 4, gbs = 8, zero = v.zero, offload = v.offload,
                   offload_to = v.offload_to, offload_engine = v.offload_engine,
                   offload_dpu = v.offload_dpu, recompute = v.recompute or "full"}
  local r = estimate{system = box, model = llama, layout = l, gpus = 1}
  local o = r.offload or {}
  rows[#rows + 1] = {variant = v.name, iteration_s = r.iteration_s, mfu = r.mfu,
                     gpu_gib = r.peak_mem_gib, dram_gib = o.dram_gib or 0,
                     nvme_gib = o.nvme_gib or 0, fits = r.fits,
                     bottleneck = o.bottleneck or "-"}
end

report.table(rows, {
  "variant",
  {key = "iteration_s", head = "iteration", unit = "s", format = "%.2f"},
  {key = "mfu", head = "MFU", format = "%.3f"},
  {key = "gpu_gib", head = "HBM", unit = "GiB", format = "%.1f"},
  {key = "dram_gib", head = "DRAM", unit = "GiB", format = "%.1f"},
  {key = "nvme_gib", head = "NVMe", unit = "GiB", format = "%.1f"},
  "fits", "bottleneck",
})

local s = search{system = box, gpus = 1, model = llama, gbs = 8, top = 3, offload = "auto"}
local best = s.layouts[1]
print(("fastest offload that fits: %s, %.2f s"):format(best.layout, best.iteration_s))
