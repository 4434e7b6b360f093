module gitopslab.local/benchmarks/loadgen

go 1.22
