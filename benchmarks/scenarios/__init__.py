"""The benchmark's scenarios, one module per measured thing; benchmarks.run decides which run at which size."""
