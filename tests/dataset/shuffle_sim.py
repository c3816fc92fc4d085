"""tf.data's shuffle algorithm (ShuffleDatasetOp) restated with xflow's generator (SplitMix64),
to give test_dataset.cpp its expected orders. Run: /usr/bin/python3 shuffle_sim.py"""

M = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    def __init__(self, state):
        self.state = state & M

    def __call__(self):
        self.state = (self.state + GOLDEN) & M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)


def shuffle(xs, buffer_size, seed, iteration=0):
    """Iteration k of a dataset of xs shuffled with (buffer_size, seed)."""
    rng = SplitMix64(seed ^ ((iteration * GOLDEN) & M))
    it = iter(xs)
    buf = [None] * buffer_size
    start = end = 0
    end_of_input = False
    out = []
    while True:
        while not end_of_input and end - start < buffer_size:
            try:
                buf[end % buffer_size] = next(it)
                end += 1
            except StopIteration:
                end_of_input = True
        if end == start:
            return out
        offset = rng() % (end - start)
        index = (start + offset) % buffer_size
        out.append(buf[index])
        buf[index], buf[start % buffer_size] = buf[start % buffer_size], buf[index]
        start += 1


if __name__ == "__main__":
    print("range(10) buffer 4 seed 42:", shuffle(range(10), 4, 42))
    print("range(10) buffer 4 seed 42 iteration 1:", shuffle(range(10), 4, 42, 1))
    print("range(20) buffer 100 seed 7:", shuffle(range(20), 100, 7))
    print("range(20) buffer 1 seed 7:", shuffle(range(20), 1, 7))
    print("range(12) buffer 5 seed 3 iterations 0..2:", [shuffle(range(12), 5, 3, k) for k in range(3)])
