-- llama3_failures: the Llama 3 405B pre-training run's interruptions,
-- simulated beside the published figures (Meta, "The Llama 3 Herd of
-- Models", 2024, sec. 3.3.4; validate/llama3_failures_54days.csv):
-- 16,384 H100s over a 54-day snapshot, 419 unexpected and 47 planned
-- interruptions, effective training time above 90%.
--
-- Rates come from those counts.  Assumptions (not published; change them
-- with the arguments):
--   detect 60 s and restart 10 min per interruption (arg[2]: restart minutes);
--   checkpoint: the model state of Llama-3-405B, bf16 weights and fp32
--     master weights and Adam moments (2 + 4 + 4 + 4 = 14 bytes per
--     parameter: 5.7 TB), written at the paper's 2 TB/s sustained storage
--     bandwidth, and read back at the same rate;
--   asynchronous checkpoints: training stops while each GPU copies its
--     shard (5.7 TB / 16,384 = 347 MB) to host memory at 25 GB/s (a
--     PCIe gen5 x16 link at about 40% of its 64 GB/s: the copy competes with
--     the NICs on it); the interval is the best found.
--
-- usage: clustersim run scenarios/llama3_failures.lua [RUNS] [RESTART_MIN]
local runs = tonumber(arg[1] or "200")
local restart_min = tonumber(arg[2] or "10")

local gpus, days = 16384, 54
local unexpected, planned = 419, 47          -- published
local llama = model "llama3-405b"
local ckpt_bytes = llama.params * 14
local storage_bytes_per_s = 2e12               -- published: 2 TB/s sustained
local host_copy_bytes_per_s = 25e9             -- assumption (see above)
local ckpt_s = ckpt_bytes / storage_bytes_per_s
local stall_s = ckpt_bytes / gpus / host_copy_bytes_per_s

local job = {
  gpus = gpus, days = days,
  failures_per_gpu_day = unexpected / (gpus * days),
  planned_per_day = planned / days,
  detect_s = 60, restart_s = 60 * restart_min,
  checkpoint_s = ckpt_s, reload_s = ckpt_s,
  runs = runs,
}
local rows = {}
for _, policy in ipairs{"sync", "async"} do
  job.checkpoint = policy
  job.stall_s = policy == "async" and stall_s or nil
  local g = goodput(job)
  rows[#rows + 1] = {
    policy = policy, interval_s = g.interval_s,
    unexpected = g.interruptions_mean, planned = g.planned_mean,
    interruptions = g.interruptions_mean + g.planned_mean,
    effective_percent = 100 * g.goodput_mean, ci95_points = 100 * g.goodput_ci95,
    lost_hours = g.lost_hours_mean, checkpoint_hours = g.checkpoint_hours_mean,
    restart_hours = g.restart_hours_mean,
  }
end
rows[#rows + 1] = {policy = "published", unexpected = unexpected, planned = planned,
                   interruptions = unexpected + planned, effective_percent = 90}

print(string.format("Llama 3 405B: %d GPUs, %d days; checkpoint %.2f TB: %.1f s to storage, "
                    .. "%.3f s stall to host", gpus, days, ckpt_bytes / 1e12, ckpt_s, stall_s))
report.table(rows, {
  "policy",
  {key = "interval_s", head = "interval", unit = "s", format = "%.0f"},
  {key = "unexpected", format = "%.1f"}, {key = "planned", format = "%.1f"},
  {key = "interruptions", format = "%.1f"},
  {key = "effective_percent", head = "effective training", unit = "%", format = "%.1f"},
  {key = "ci95_points", head = "95% interval", unit = "points", format = "%.2f"},
  {key = "lost_hours", head = "lost", unit = "h", format = "%.1f"},
  {key = "checkpoint_hours", head = "checkpointing", unit = "h", format = "%.1f"},
  {key = "restart_hours", head = "restarts", unit = "h", format = "%.1f"},
})
print("published: effective training time above 90% (a lower bound, not a measurement)")
print("published interruptions by category (validate/llama3_failures_54days.csv):")
report.table(reference("llama3_failures_54days"),
             {"category", "interruptions", {key = "percent_reported", unit = "%"}})
report.csv("llama3_failures.csv", rows,
  {"policy", "interval_s", "unexpected", "planned", "interruptions", "effective_percent",
   "ci95_points", "lost_hours", "checkpoint_hours", "restart_hours"})
