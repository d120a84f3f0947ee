local g = goodput{gpus = 1024, days = 2, failures_per_gpu_day = 0.01, checkpoint_s = 60, runs = 3, interval_s = 3600}
print(g.goodput_mean)
