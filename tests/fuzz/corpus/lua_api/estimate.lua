local s = system{base = "dgx-h100", nodes = 2}
local m = model{base = "llama2-7b", layers = 4}
local r = estimate{system = s, model = m, tp = 8, pp = 2, mbs = 1, gbs = 8, mode = "analytic"}
print(r.iteration_s, r.mfu)
