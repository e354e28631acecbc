package dev.tokenbroker.benchmarks;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The walk order of the {@code anyConnection} benchmarks, built as {@link AccessTokenBenchmark}
 * builds its ids: every element at least once, shuffled with a fixed seed, repeated up to a length
 * that is a power of two (so a per-thread counter and a mask index it).
 */
final class Shuffled {
  private Shuffled() {}

  /** {@code all}, shuffled (seed 42) and cycled to the next power of two in length. */
  static <T> T[] cycle(T[] all) {
    List<T> shuffled = Arrays.asList(all.clone());
    Collections.shuffle(shuffled, new Random(42));
    int size = all.length == 1 ? 1 : Integer.highestOneBit(all.length - 1) << 1;
    T[] cycle = Arrays.copyOf(all, size);
    for (int i = 0; i < size; i++) {
      cycle[i] = shuffled.get(i % all.length);
    }
    return cycle;
  }
}
