package dev.tokenbroker.store;

import dev.tokenbroker.spi.Settings;
import java.time.Clock;
import java.util.Set;

/**
 * The {@code memory} store type: an {@link InMemoryTokenStore}, which keeps nothing across
 * restarts. Found with {@link java.util.ServiceLoader}.
 */
public final class InMemoryTokenStoreFactory implements TokenStoreFactory {

  /** For {@link java.util.ServiceLoader}. */
  public InMemoryTokenStoreFactory() {}

  @Override
  public String type() {
    return "memory";
  }

  @Override
  public TokenStore create(Settings settings, Clock clock) {
    settings.rejectUnknown(Set.of("type"));
    return new InMemoryTokenStore(clock);
  }
}
