package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import java.time.Clock;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The set-up {@link AccessTokenBenchmark} and {@link TokenSourceBenchmark} share: a broker with
 * {@code connections} connections served by {@link LocalTokenProvider}, each fetched once (FRESH
 * from then on), and the configured ids in a shuffled array whose length is a power of two.
 */
final class WarmBroker {
  final TokenBroker broker;

  /** The first configured id. */
  final ConnectionId first;

  /** Every id at least once, shuffled with a fixed seed (every run walks them in one order). */
  final ConnectionId[] shuffled;

  /** {@code shuffled.length - 1}. */
  final int mask;

  private final LocalTokenProvider provider;
  private final int connections;

  WarmBroker(int connections) {
    this.connections = connections;
    Clock clock = Clock.systemUTC();
    provider = new LocalTokenProvider(clock);
    ConnectionId[] all = new ConnectionId[connections];
    TokenBrokerBuilder builder = TokenBroker.builder().withoutKeepAlive().clock(clock);
    for (int i = 0; i < connections; i++) {
      all[i] = ConnectionId.of(LocalTokenProvider.NAME, "account-" + i);
      builder.connection(all[i], provider);
    }
    broker = builder.build();
    for (ConnectionId id : all) {
      broker.accessToken(id); // obtains, saves and caches the token: FRESH from now on
    }
    if (provider.obtained() != connections) {
      throw new IllegalStateException(
          "warm-up obtained "
              + provider.obtained()
              + " tokens for "
              + connections
              + " connections");
    }
    List<ConnectionId> order = Arrays.asList(all.clone());
    Collections.shuffle(order, new Random(42));
    int size = connections == 1 ? 1 : Integer.highestOneBit(connections - 1) << 1;
    shuffled = new ConnectionId[size];
    for (int i = 0; i < size; i++) {
      shuffled[i] = order.get(i % connections);
    }
    mask = size - 1;
    first = all[0];
  }

  /** Closes the broker; fails if anything was renewed after the warm-up. */
  void close() {
    broker.close();
    if (provider.obtained() != connections) {
      // A renewal during measurement means we did not measure the FRESH path alone.
      throw new IllegalStateException(
          (provider.obtained() - connections) + " tokens were renewed while measuring");
    }
  }
}
