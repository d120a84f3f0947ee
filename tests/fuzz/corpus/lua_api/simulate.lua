local r = simulate{system = "dgx-h100", gpus = 16, model = model{base = "llama2-7b", layers = 4}, tp = 8, pp = 2, mbs = 1, gbs = 4}
report.timeline("t.json", r)
report.schedule_svg("s.svg", r)
report.csv("r.csv", {{a = 1, b = "x"}, {a = 2, b = "y,z"}})
