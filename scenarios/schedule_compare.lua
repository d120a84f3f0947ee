-- schedule_compare: GPipe, 1F1B, interleaved 1F1B and the schedules that
-- split the backward into B and W (zero-bubble ZB-H1, ZB-H2, the V-shapes
-- ZBV, V-Half, V-Min, and DualPipe) for one model and layout: the pipeline bubble (idle fraction of each stage) and the peak
-- memory per stage, from the formula and from the simulated timeline, with
-- a picture of each schedule and of its memory over time.
-- Writes out/schedule_compare.csv (one row per schedule and stage) and
-- out/schedule_<name>.svg, out/memory_<name>.svg.
--
-- usage: clustersim run scenarios/schedule_compare.lua [MICROBATCHES]  (default 8)
local m = tonumber(arg[1] or "8")

local cluster = system{base = "dgx-h100", nodes = 2}
local gpt = model{base = "llama2-7b", seq = 4096}
local schedules = {
  {name = "gpipe", schedule = "gpipe", vpp = 1},
  {name = "1f1b", schedule = "1f1b", vpp = 1},
  {name = "interleaved", schedule = "interleaved", vpp = 2},
  {name = "zb-h1", schedule = "zb-h1", vpp = 1},
  {name = "zb-h2", schedule = "zb-h2", vpp = 1},
  {name = "zbv", schedule = "zbv", vpp = 2},
  {name = "v-half", schedule = "v-half", vpp = 2},
  {name = "v-min", schedule = "v-min", vpp = 2},
  {name = "dualpipe", schedule = "dualpipe", vpp = 1},
}

local rows, summary = {}, {}
for _, s in ipairs(schedules) do
  local l = layout{tp = 2, pp = 4, dp = 2, vpp = s.vpp, schedule = s.schedule, mbs = 1,
                   gbs = 2 * m, sp = true}
  local r = simulate{system = cluster, model = gpt, layout = l}
  local peak = 0
  for _, st in ipairs(r.stages) do
    rows[#rows + 1] = {schedule = s.name, stage = st.stage, bubble_s = st.bubble_s,
                       bubble_fraction = st.bubble_fraction, peak_mem_gib = st.peak_mem_gib,
                       sim_peak_mem_gib = st.sim_peak_mem_gib}
    peak = math.max(peak, st.sim_peak_mem_gib)
  end
  summary[#summary + 1] = {schedule = s.name, layout = r.layout, iteration_s = r.iteration_s,
                           bubble_fraction = r.bubble_fraction, peak_mem_gib = peak}
  report.schedule_svg("schedule_" .. s.name .. ".svg", r)
  report.memory_svg("memory_" .. s.name .. ".svg", r)
end

print(string.format("Llama-2-7B, %d microbatches, tp 2, pp 4, dp 2 on %d dgx-h100 nodes",
                    m, cluster.nodes))
report.table(summary, {
  "schedule", "layout",
  {key = "iteration_s", head = "iteration", unit = "s", format = "%.3f"},
  {key = "bubble_fraction", head = "bubble", unit = "fraction", format = "%.3f"},
  {key = "peak_mem_gib", head = "peak memory", unit = "GiB", format = "%.2f"},
})
report.csv("schedule_compare.csv", rows,
  {"schedule", "stage", "bubble_s", "bubble_fraction", "peak_mem_gib", "sim_peak_mem_gib"})
