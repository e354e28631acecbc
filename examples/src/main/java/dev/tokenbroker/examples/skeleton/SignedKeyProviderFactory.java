package dev.tokenbroker.examples.skeleton;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.util.List;

/**
 * SKELETON, for docs/providers.md ("Write your own provider module"): the factory of an invented
 * platform, {@code signed-key}, that is not OAuth. Found by {@link java.util.ServiceLoader} through
 * {@code META-INF/services/dev.tokenbroker.spi.TokenProviderFactory}; turns a connection's settings
 * into a provider, failing at build time with the setting's name when one is wrong.
 *
 * <pre>
 * connections:
 *   signed-key:main:
 *     base-url: https://api.example.com
 *     key-id: k-123
 *     key-secret: ${SIGNED_KEY_SECRET}
 *     renew-before: 5m
 * </pre>
 */
public final class SignedKeyProviderFactory implements TokenProviderFactory {
  private static final List<String> KNOWN =
      List.of("base-url", "key-id", "key-secret", "renew-before");

  /** For {@link java.util.ServiceLoader}. */
  public SignedKeyProviderFactory() {}

  @Override
  public String name() {
    return SignedKeyProvider.NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    settings.rejectUnknown(KNOWN); // a typo fails at build time, naming the setting
    String secret = settings.require("key-secret");
    if (secret.length() < 16) {
      throw settings.invalid("key-secret", "must be at least 16 characters"); // never echo it
    }
    return new SignedKeyProvider(
        settings.url("base-url", "https://api.example.com"),
        settings.require("key-id"),
        secret,
        settings.duration("renew-before", Duration.ofMinutes(5)),
        context);
  }
}
