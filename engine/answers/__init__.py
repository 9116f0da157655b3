"""Answering from passages: the llama.cpp generator, prompts, the grounding check, whole
sentences and pages of sources, and the stored conversations."""
