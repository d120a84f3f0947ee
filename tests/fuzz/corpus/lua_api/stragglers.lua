local r = stragglers{system = "dgx-h100", gpus = 16, model = model{base = "llama2-7b", layers = 4}, tp = 8, pp = 1, mbs = 1, gbs = 4, slow = {{gpu = 1, factor = 1.5}}, iterations = 3}
print(r)
