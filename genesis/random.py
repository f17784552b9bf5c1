"""Random numbers: Generator, manual_seed, get/set_rng_state, rand/randn/randint/
randperm/normal/bernoulli/multinomial."""
