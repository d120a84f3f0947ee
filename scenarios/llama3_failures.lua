-- llama3_failures: the Llama 3 405B pre-training run's interruptions,
-- simulated beside the published figures (Meta, "The Llama 3 Herd of
-- Models", 2024, sec. 3.3.4; validate/llama3_failures_54days.csv):
-- 16,384 H100s over a 54-day snapshot, 419 unexpected and 47 planned
-- interruptions, effective training time above 90%.
--
-- Failures come by component class at the rates derived from those counts
-- (fault_model = "llama3": GPU, GPU memory, switch/cable, host and the
-- unexplained rest as software; docs/faults.md), on 2,048 dgx-h100 hosts.
-- Assumptions (not published; change them with the arguments):
--   detect 60 s and restart 10 min per interruption (arg[2]: restart minutes);
--   the checkpoint: what estimate{} derives for Llama-3-405B (bf16 weights,
--     fp32 master weights and Adam moments, 14 bytes per parameter: 5.7 TB,
--     saved fully in parallel) at the paper's 2 TB/s storage bandwidth; the
--     layout tp 8, pp 14 on 16,128 GPUs stands in for Meta's (126 layers do
--     not split evenly over 16 stages; the checkpoint's size does not
--     depend on it);
--   async and in-memory checkpoints stall for the copy to host memory over
--     each GPU's share of PCIe and host memory bandwidth;
--   hot spares: unlimited, except in the last row (16 spare nodes, repairs
--     taking 48 h).
--
-- usage: clustersim run scenarios/llama3_failures.lua [RUNS] [RESTART_MIN]
local runs = tonumber(arg[1] or "200")
local restart_min = tonumber(arg[2] or "10")

local gpus, days = 16384, 54
local unexpected, planned = 419, 47          -- published
local ckpt = estimate{system = "dgx-h100", gpus = 16128, model = "llama3-405b", tp = 8, pp = 14,
                      mbs = 1, gbs = 2016, mode = "analytic", storage_gbs = 2000}.checkpoint

local job = {
  system = "dgx-h100", gpus = gpus, days = days, fault_model = "llama3",
  planned_per_day = planned / days,
  detect_s = 60, restart_s = 60 * restart_min,
  checkpoint_s = ckpt.sync_s, reload_s = ckpt.reload_s,
  runs = runs,
}
local policies = {
  {name = "sync", checkpoint = "sync"},
  {name = "async", checkpoint = "async", stall_s = ckpt.snapshot_s},
  {name = "memory", checkpoint = "memory", stall_s = ckpt.snapshot_s},
  {name = "async, 16 spares", checkpoint = "async", stall_s = ckpt.snapshot_s, spares = 16,
   repair_h = 48, svg = "llama3_job.svg"},
}
local rows = {}
for _, policy in ipairs(policies) do
  job.checkpoint, job.stall_s = policy.checkpoint, policy.stall_s
  job.spares, job.repair_h, job.svg = policy.spares, policy.repair_h, policy.svg
  local g = goodput(job)
  rows[#rows + 1] = {
    policy = policy.name, interval_s = g.interval_s,
    unexpected = g.interruptions_mean, planned = g.planned_mean,
    interruptions = g.interruptions_mean + g.planned_mean,
    gpu = g.by_class.gpu + g.by_class.gpu_memory, network = g.by_class.switch,
    software = g.by_class.software,
    effective_percent = 100 * g.goodput_mean, ci95_points = 100 * g.goodput_ci95,
    lost_hours = g.lost_hours_mean, checkpoint_hours = g.checkpoint_hours_mean,
    restart_hours = g.restart_hours_mean, spare_wait_hours = g.spare_wait_hours_mean,
  }
end
rows[#rows + 1] = {policy = "published", unexpected = unexpected, planned = planned,
                   interruptions = unexpected + planned, gpu = 148 + 72 + 19 + 17,
                   network = 35, effective_percent = 90}

print(string.format("Llama 3 405B: %d GPUs, %d days; checkpoint %.2f TB (%.0f MB per GPU): "
                    .. "%.2f s to storage, %.3f s stall to host, reload %.2f s", gpus, days,
                    ckpt.total_gb / 1e3, ckpt.gpu_gb * 1e3, ckpt.sync_s, ckpt.snapshot_s,
                    ckpt.reload_s))
report.table(rows, {
  "policy",
  {key = "interval_s", head = "interval", unit = "s", format = "%.0f"},
  {key = "unexpected", format = "%.1f"}, {key = "planned", format = "%.1f"},
  {key = "interruptions", format = "%.1f"},
  {key = "gpu", head = "GPU and memory", format = "%.1f"}, {key = "network", format = "%.1f"},
  {key = "effective_percent", head = "effective training", unit = "%", format = "%.1f"},
  {key = "ci95_points", head = "95% interval", unit = "points", format = "%.2f"},
  {key = "lost_hours", head = "lost", unit = "h", format = "%.1f"},
  {key = "checkpoint_hours", head = "checkpointing", unit = "h", format = "%.1f"},
  {key = "restart_hours", head = "restarts", unit = "h", format = "%.1f"},
  {key = "spare_wait_hours", head = "of which spares", unit = "h", format = "%.1f"},
})
print("published: effective training time above 90% (a lower bound, not a measurement)")
print("published interruptions by category (validate/llama3_failures_54days.csv):")
report.table(reference("llama3_failures_54days"),
             {"category", "interruptions", {key = "percent_reported", unit = "%"}})
report.csv("llama3_failures.csv", rows,
  {"policy", "interval_s", "unexpected", "planned", "interruptions", "gpu", "network",
   "software", "effective_percent", "ci95_points", "lost_hours", "checkpoint_hours",
   "restart_hours", "spare_wait_hours"})
