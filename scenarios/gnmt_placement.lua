-- gnmt_placement: every placement algorithm on Baechi's GNMT v2 graph
-- (../shared/placement/gnmt_v2_b128, 2494 operators), 4 devices, at 16 GiB each
-- (one device holds everything) and at 2 GiB each (one device does not:
-- the graph needs 2.1 GiB there), with Baechi's linear transfer model, on
-- one channel per device pair and (at 16 GiB) on Baechi's one channel per
-- device; predicted_ms is the placers' list schedule of the placement beside
-- the simulated step_ms.  A placement that does not fit is shown with its reason.
--
-- usage: clustersim run --allow-read ../shared scenarios/gnmt_placement.lua [GRAPH_DIR] [TIGHT_GIB]
-- (a scenario reads only below its own folder unless --allow-read names another)
local dir = arg[1] or "../shared/placement/gnmt_v2_b128"
local tight = tonumber(arg[2] or "2")

local rows = {}
for _, run in ipairs({{16, "pair"}, {tight, "pair"}, {16, "device"}}) do
  local mem, channels = run[1], run[2]
  for _, algo in ipairs({"single", "expert", "roundrobin", "topo", "etf", "sct", "auto"}) do
    local ok, r = pcall(place, {graph = dir, devices = 4, mem_gib = mem, algo = algo,
                                channels = channels})
    if ok then
      local peak = 0
      for _, d in ipairs(r.devices) do peak = math.max(peak, d.mem_gib) end
      rows[#rows + 1] = {mem_gib = mem, channels = channels, algo = algo, step_ms = r.step_ms,
                         predicted_ms = r.predicted_ms or "", placement_s = r.placement_s,
                         max_mem_gib = peak, note = r.start and ("from " .. r.start) or ""}
    elseif tostring(r):find("outside the folders", 1, true) then
      error(r, 0) -- not a placement that does not fit: the graph cannot be read
    else
      rows[#rows + 1] = {mem_gib = mem, channels = channels, algo = algo, note = "does not fit"}
    end
  end
end
local cols = {"mem_gib", "channels", "algo", "step_ms", "predicted_ms", "placement_s",
              "max_mem_gib", "note"}
report.table(rows, cols)
report.csv("gnmt_placement.csv", rows, cols)
