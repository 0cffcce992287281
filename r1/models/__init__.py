"""The tiny base model (tokenizer, corpus, pretraining) and loading of any local HF checkpoint."""
