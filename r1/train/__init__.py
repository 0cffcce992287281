"""The stage skeleton every training stage shares (pretraining, SFT, GRPO and each R1 stage built on
them): the config fields of an optimizer run, a seeded record stream over the train split, one lr
schedule (warmup, then constant or cosine), one checkpoint format, one telemetry writer, in-training
evaluation, the cross-process reductions, and the loop that ties them together (`r1.train.loop`).
"""
