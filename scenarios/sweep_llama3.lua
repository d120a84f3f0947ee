-- sweep_llama3: goodput of a Llama 3 70B pre-training run over three cluster
-- sizes x two networks x the interruptions of the Llama 3 report, as one
-- sweep (docs/sweep.md): 12 points, one CSV row each.
--
--   sizes:    4,096, 8,192 and 16,384 H100s (512, 1,024 and 2,048 dgx-h100 nodes)
--   networks: rail-optimized (NIC i of every node on rail switch i) and a
--             non-blocking fat-tree; they differ in switches and cables, and
--             so in failures of the switch class
--   failures: the component-class rates derived from the report's 419
--             unexpected interruptions in 54 days on 16,384 GPUs (fault_model
--             = "llama3"; docs/faults.md), without and with its 47 planned
--             ones (Meta, "The Llama 3 Herd of Models", 2024, sec. 3.3.4)
--
-- Each job runs 54 days.  The checkpoint is what estimate{} derives for
-- Llama 3 70B with tp 8, pp 4 and the paper's global batch of 2,048
-- sequences of 8,192 tokens at its 2 TB/s storage (weights and Adam state,
-- 14 bytes per parameter, saved in parallel); detection 60 s and restart
-- 10 min per interruption are assumptions (not published).
--
-- usage: clustersim sweep scenarios/sweep_llama3.lua [RUNS]   (default 200)
--        mpirun -np N clustersim sweep scenarios/sweep_llama3.lua [RUNS]
-- writes out/sweep_llama3.csv; --resume after an interruption keeps its rows.
local runs = tonumber(arg[1] or "200")
local days, planned = 54, 47

local sizes = {}
for _, gpus in ipairs({4096, 8192, 16384}) do
  local ckpt = estimate{system = "dgx-h100", gpus = gpus, model = "llama3-70b", tp = 8, pp = 4,
                        mbs = 1, gbs = 2048, mode = "analytic", storage_gbs = 2000}.checkpoint
  sizes[#sizes + 1] = {gpus = gpus, checkpoint_s = ckpt.sync_s, reload_s = ckpt.reload_s}
end

local networks = {}
for _, net in ipairs({"rail", "fat-tree"}) do
  networks[#networks + 1] = {_network = net,  -- a label: a column, not an argument of goodput{}
                             system = system{base = "dgx-h100", nodes = 2048, network = net}}
end

local r = sweep{
  run = "goodput", name = "sweep_llama3.csv",
  base = {days = days, fault_model = "llama3", detect_s = 60, restart_s = 600, runs = runs},
  product = {
    sizes,
    networks,
    {{planned_per_day = 0}, {planned_per_day = planned / days}},
  },
}
print(string.format("%d points (%d resumed, %d failed) in %s", r.points, r.resumed, r.failed,
                    r.path))
