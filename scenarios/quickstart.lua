-- quickstart: a Llama-3-70B training job on 64 dgx-h100 nodes (512 H100s).
-- Run: clustersim run scenarios/quickstart.lua [nodes]
-- Estimates four layouts and prints them as a table; then simulates the
-- fastest one that fits and writes, into out/:
--   quickstart.csv          the four layouts
--   quickstart_stages.csv   where each pipeline stage's time went (fastest)
--   timeline.json           its iteration as a Chrome trace: open it in
--                           https://ui.perfetto.dev
--   schedule.svg            its pipeline schedule
--   memory.svg              memory held per stage over the iteration
local nodes = tonumber(arg[1] or "64")

local cluster = system{base = "dgx-h100", nodes = nodes}
local llama = model{base = "llama3-70b", seq = 8192}
print(cluster)
print(llama)

local candidates = {
  layout{tp = 8, pp = 4, gpus = cluster.gpus, mbs = 1, gbs = 1024, sp = true,
         recompute = "selective", zero = 1},
  layout{tp = 8, pp = 4, vpp = 2, gpus = cluster.gpus, mbs = 1, gbs = 1024, sp = true,
         recompute = "selective", zero = 1},
  layout{tp = 8, pp = 8, gpus = cluster.gpus, mbs = 1, gbs = 1024, sp = true,
         recompute = "selective", zero = 1},
  layout{tp = 4, pp = 8, vpp = 2, gpus = cluster.gpus, mbs = 1, gbs = 1024, sp = true,
         recompute = "selective", zero = 1},
}

local rows, best = {}, nil
for _, l in ipairs(candidates) do
  local r = estimate{system = cluster, model = llama, layout = l}
  rows[#rows + 1] = {
    layout = r.layout, iteration_s = r.iteration_s, tokens_per_s = r.tokens_per_s,
    mfu = r.mfu, peak_mem_gib = r.peak_mem_gib, fits = r.fits,
  }
  if r.fits and (best == nil or r.iteration_s < best.result.iteration_s) then
    best = {layout = l, result = r}
  end
end

report.table(rows, {
  "layout",
  {key = "iteration_s", head = "iteration", unit = "s", format = "%.2f"},
  {key = "tokens_per_s", head = "throughput", unit = "tokens/s", format = "%.0f"},
  {key = "mfu", head = "MFU", unit = "fraction", format = "%.3f"},
  {key = "peak_mem_gib", head = "peak memory", unit = "GiB", format = "%.1f"},
  "fits",
})
report.csv("quickstart.csv", rows,
  {"layout", "iteration_s", "tokens_per_s", "mfu", "peak_mem_gib", "fits"})

if best then
  local sim = simulate{system = cluster, model = llama, layout = best.layout}
  print(string.format("fastest layout that fits: %s, %.2f s per iteration, bubble %.1f%%",
                      sim.layout, sim.iteration_s, 100 * sim.bubble_fraction))
  report.csv("quickstart_stages.csv", sim.stages,
    {"stage", "compute_s", "recompute_s", "tp_comm_s", "dp_exposed_s", "p2p_s",
     "bubble_s", "optimizer_s", "peak_mem_gib", "sim_peak_mem_gib"})
  report.timeline("timeline.json", sim)
  report.schedule_svg("schedule.svg", sim)
  report.memory_svg("memory.svg", sim)
else
  print("no layout fits: try more nodes or more pipeline stages")
end
