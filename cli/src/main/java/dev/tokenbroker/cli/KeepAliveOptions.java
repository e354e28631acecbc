package dev.tokenbroker.cli;

import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The keep-alive options of the long-running commands, {@code run} and {@code serve} (a picocli
 * mixin), and the broker builder they set up.
 */
final class KeepAliveOptions {
  @Option(
      names = "--keep-alive-interval",
      paramLabel = "DURATION",
      defaultValue = "1h",
      converter = DurationConverter.class,
      description = "time between keep-alive passes (default: ${DEFAULT-VALUE})")
  Duration interval = Duration.ofHours(1);

  @Option(
      names = "--keep-alive-concurrency",
      paramLabel = "N",
      defaultValue = "4",
      description = "connections renewed at once in a pass (default: ${DEFAULT-VALUE})")
  int concurrency = 4;

  /** A new broker builder with keep-alive on, at this interval and concurrency. */
  TokenBrokerBuilder brokerBuilder() {
    return TokenBroker.builder().keepAlive(interval, concurrency);
  }
}
