local r = search{system = "dgx-a100-80g", gpus = 16, model = model{base = "llama2-7b", layers = 4}, gbs = 16, top = 3}
local p = place{model = "llama2-7b", devices = 2, mem_gib = 80, algo = "etf"}
report.chart("c.svg", {title = "t", series = {{name = "a", x = {1, 2, 3}, y = {3, 1, 2}}}})
report.table({{x = 1}}, {{key = "x"}})
print(reference("megatron2021_weak_scaling")[1])
