local c = collective{system = "dgx-h100", nodes = 2, op = "allreduce", size = "64M", algo = "ring"}
print(c.algo, c.time_us)
