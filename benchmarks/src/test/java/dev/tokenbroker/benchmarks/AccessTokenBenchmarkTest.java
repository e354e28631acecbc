package dev.tokenbroker.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The benchmark's set-up, without JMH: what it measures is what it claims to measure. */
class AccessTokenBenchmarkTest {

  @Test
  void everyConnectionIsWarmAndAnyConnectionVisitsThemAll() {
    AccessTokenBenchmark benchmark = new AccessTokenBenchmark();
    benchmark.connections = 1000;
    benchmark.setUp();
    AccessTokenBenchmark.Cursor cursor = new AccessTokenBenchmark.Cursor();
    cursor.setUp();
    try {
      Set<String> tokens = new HashSet<>();
      for (int i = 0; i < 1024; i++) { // the id array's length: the next power of two
        tokens.add(benchmark.anyConnection(cursor));
      }
      assertThat(tokens).hasSize(1000).allSatisfy(t -> assertThat(t).hasSize(64));
      assertThat(benchmark.sameConnection()).isEqualTo(benchmark.sameConnection());
    } finally {
      benchmark.tearDown(); // throws if a call renewed instead of serving the cached token
    }
  }

  @Test
  void oneConnectionIsServedOverAndOver() {
    AccessTokenBenchmark benchmark = new AccessTokenBenchmark();
    benchmark.connections = 1;
    benchmark.setUp();
    AccessTokenBenchmark.Cursor cursor = new AccessTokenBenchmark.Cursor();
    cursor.setUp();
    try {
      String token = benchmark.sameConnection();
      for (int i = 0; i < 100; i++) {
        assertThat(benchmark.anyConnection(cursor)).isEqualTo(token);
      }
    } finally {
      benchmark.tearDown();
    }
  }

  @Test
  void tokenSourceBenchmark_servesEveryConnectionFromItsSource() {
    TokenSourceBenchmark benchmark = new TokenSourceBenchmark();
    benchmark.connections = 1000;
    benchmark.setUp();
    AccessTokenBenchmark.Cursor cursor = new AccessTokenBenchmark.Cursor();
    cursor.setUp();
    try {
      Set<String> tokens = new HashSet<>();
      for (int i = 0; i < 1024; i++) {
        tokens.add(benchmark.anyConnection(cursor));
      }
      assertThat(tokens).hasSize(1000).allSatisfy(t -> assertThat(t).hasSize(64));
      assertThat(benchmark.sameConnection()).isEqualTo(benchmark.sameConnection());
    } finally {
      benchmark.tearDown();
    }
  }
}
