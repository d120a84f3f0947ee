-- stragglers: what one slow GPU, one slow node's network, or GPUs slowed at
-- random do to a synchronous training step.  Llama-2-7B on four dgx-h100
-- nodes (tp 4, pp 2, dp 4), every rank simulated: the step waits for the
-- slowest rank, so one GPU at 2/3 speed slows all 32.  Prints a table, one
-- row per case: the iteration times against the baseline (no straggler) and
-- the GPU that held the others up most often.  Writes no file.
--
-- usage: clustersim run scenarios/stragglers.lua [ITERATIONS]  (default 20)
local iterations = math.tointeger(tonumber(arg[1] or "20"))
assert(iterations and iterations >= 1, "ITERATIONS is a whole number from 1")

local job = {system = "dgx-h100", gpus = 32, model = "llama2-7b", tp = 4, pp = 2, mbs = 1,
             gbs = 32, iterations = iterations}
local cases = {
  {name = "none"},
  {name = "GPU 5 at 1/1.5, always", slow = {{gpu = 5, factor = 1.5}}},
  {name = "GPU 5 at 1/2, 3 to 7", slow = {{gpu = 5, factor = 2, from = 3, to = 7}}},
  {name = "node 2 NICs at 1/4", slow = {{link = 2, factor = 4}}},
  {name = "random: 1% at 1/1.5", slow_prob = 0.01, slow_factor = 1.5},
}

-- The GPU that held the others up most often, as "GPU 5 (stage 0) x 20".
local function culprit(held)
  local top = held[1]
  if not top then return string.format("none x %d", held.none) end
  return string.format("GPU %d (stage %d) x %d", top.gpu, top.stage, top.iterations)
end

local rows = {}
for _, c in ipairs(cases) do
  local spec = {slow = c.slow, slow_prob = c.slow_prob, slow_factor = c.slow_factor}
  for k, v in pairs(job) do spec[k] = v end
  local r = stragglers(spec)
  rows[#rows + 1] = {case = c.name, baseline_s = r.baseline_s, median_s = r.median_s,
                     p90_s = r.p90_s, max_s = r.max_s,
                     slowdown = 100 * (r.mean_s / r.baseline_s - 1), held_up_by = culprit(r.held_up_by)}
end

print(string.format("Llama-2-7B on 32 H100s (tp 4, pp 2, dp 4), %d iterations each", iterations))
local function seconds(key, head) return {key = key, head = head, unit = "s", format = "%.4f"} end
report.table(rows, {"case", seconds("baseline_s", "baseline"), seconds("median_s", "median"),
                    seconds("p90_s", "p90"), seconds("max_s", "max"),
                    {key = "slowdown", head = "mean slowdown", unit = "%", format = "%.1f"},
                    {key = "held_up_by", head = "held up most by"}})
