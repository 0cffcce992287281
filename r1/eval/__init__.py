"""Evaluation: sampling k completions per problem and the metrics of the R1 paper."""
