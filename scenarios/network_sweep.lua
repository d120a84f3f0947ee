-- network_sweep: how much the scale-out network matters for one model and
-- layout.  NICs of 200, 400 and 800 Gb/s on three networks of dgx-h100
-- nodes: rail-optimized (NIC i of every node on rail switch i), a
-- non-blocking fat-tree, and a fat-tree oversubscribed 2:1 at every tier,
-- routed by destination as dgx-h100's InfiniBand is (D-mod-K: a ring's
-- every step crosses the spines on links of its own, so with a quarter of
-- the ring's hops leaving a leaf half the up-links suffice), and the same
-- 2:1 tree with flows hashed over the up-links (Ethernet ECMP), where rings
-- collide and the oversubscription bites.
-- Llama-3-8B, tensor-parallel within a node and data-parallel across nodes
-- with a small batch per replica, so that the gradient all-reduce is a large
-- part of the iteration; every GPU is simulated (ranks = "all"), so the
-- data-parallel groups of the eight tensor ranks contend for the network.
-- Writes out/network_sweep.csv and out/network_sweep.svg (iteration time
-- against NIC speed, one line per network).
--
-- usage: clustersim run scenarios/network_sweep.lua [NODES]   (default 16)
local nodes = tonumber(arg[1] or "16")

local llama = model{base = "llama3-8b", seq = 8192}
local networks = {
  {label = "rail-optimized", network = "rail", oversubscription = 1},
  {label = "fat-tree", network = "fat-tree", oversubscription = 1},
  {label = "fat-tree 2:1", network = "fat-tree", oversubscription = 2},
  {label = "fat-tree 2:1 ecmp", network = "fat-tree", oversubscription = 2, routing = "ecmp"},
}
local speeds = {200, 400, 800}

local rows, series = {}, {}
for _, net in ipairs(networks) do
  local xs, ys = {}, {}
  for _, gbps in ipairs(speeds) do
    -- 4 nodes under each leaf (32 NIC ports), so the groups cross the spines
    local cluster = system{base = "dgx-h100", nodes = nodes, nic_gbps = gbps,
                           network = net.network, oversubscription = net.oversubscription,
                           nics_per_leaf = 32, routing = net.routing}
    local r = estimate{system = cluster, model = llama, tp = 8, pp = 1, mbs = 1,
                       gbs = 2 * nodes, ranks = "all"}
    rows[#rows + 1] = {network = net.label, nic_gbps = gbps, layout = r.layout,
                       iteration_s = r.iteration_s, tokens_per_s = r.tokens_per_s, mfu = r.mfu,
                       dp_exposed_s = r.stages[1].dp_exposed_s}
    xs[#xs + 1] = gbps
    ys[#ys + 1] = r.iteration_s
  end
  series[#series + 1] = {name = net.label, x = xs, y = ys}
end

print(string.format("Llama-3-8B on %d dgx-h100 nodes, %s", nodes, rows[1].layout))
report.table(rows, {
  "network", {key = "nic_gbps", head = "NIC", unit = "Gb/s"},
  {key = "iteration_s", head = "iteration", unit = "s", format = "%.3f"},
  {key = "tokens_per_s", head = "throughput", unit = "tokens/s", format = "%.0f"},
  {key = "mfu", head = "MFU", unit = "fraction", format = "%.3f"},
  {key = "dp_exposed_s", head = "exposed dp comm", unit = "s", format = "%.3f"},
})
report.csv("network_sweep.csv", rows,
  {"network", "nic_gbps", "layout", "iteration_s", "tokens_per_s", "mfu", "dp_exposed_s"})
report.chart("network_sweep.svg", {
  title = string.format("Llama-3-8B, %d dgx-h100 nodes: iteration time by NIC speed", nodes),
  x_label = "NIC speed (Gb/s)", y_label = "iteration time (s)", x_log2 = true,
  series = series,
})
