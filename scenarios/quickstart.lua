-- quickstart: a Llama-3-70B training job on 64 dgx-h100 nodes (512 H100s).
-- Run: clustersim run scenarios/quickstart.lua [nodes]
-- Prints a short summary of a few layouts and writes out/quickstart.csv and
-- out/quickstart_stages.csv (the per-stage breakdown of the best layout).
local nodes = tonumber(arg[1] or "64")
local gpus = nodes * 8

local layouts = {
  {tp = 8, pp = 4, vpp = 1},
  {tp = 8, pp = 4, vpp = 2},
  {tp = 8, pp = 8, vpp = 1},
  {tp = 4, pp = 8, vpp = 2},
}

local rows, best = {}, nil
for _, l in ipairs(layouts) do
  local r = estimate{
    system = "dgx-h100", nodes = nodes, model = "llama3-70b", seq = 8192,
    tp = l.tp, pp = l.pp, vpp = l.vpp, mbs = 1, gbs = 1024,
    sp = true, recompute = "selective", zero = 1,
  }
  rows[#rows + 1] = {
    layout = r.layout, iteration_s = r.iteration_s, tokens_per_s = r.tokens_per_s,
    mfu = r.mfu, peak_mem_gib = r.peak_mem_gib, fits = r.fits,
  }
  print(string.format("%-56s %8.2f s  %9.0f tok/s  MFU %5.1f%%  %6.1f GiB %s",
    r.layout, r.iteration_s, r.tokens_per_s, 100 * r.mfu, r.peak_mem_gib,
    r.fits and "fits" or "DOES NOT FIT"))
  if r.fits and (best == nil or r.iteration_s < best.iteration_s) then best = r end
end

report.csv("quickstart.csv", rows,
  {"layout", "iteration_s", "tokens_per_s", "mfu", "peak_mem_gib", "fits"})
if best then
  print("fastest layout that fits: " .. best.layout)
  report.csv("quickstart_stages.csv", best.stages,
    {"stage", "compute_s", "recompute_s", "tp_comm_s", "dp_exposed_s", "p2p_s",
     "bubble_s", "optimizer_s", "peak_mem_gib"})
end
