package dev.tokenbroker.naver;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import okhttp3.HttpUrl;

/**
 * Builds Naver Commerce providers ({@code provider: naver}): client credentials signed with the
 * application secret, no person in the loop, no refresh token.
 *
 * <p>Settings:
 *
 * <ul>
 *   <li>{@code client-id} — the application id (required);
 *   <li>{@code client-secret} — the application secret, a bcrypt salt such as {@code $2a$04$…}
 *       (required; its shape is checked now, so a mistyped secret fails at start-up);
 *   <li>{@code type} — {@code SELF} (the application's own store, default) or {@code SELLER} (a
 *       related seller, for solution vendors);
 *   <li>{@code account-id} — the seller's id or uid; required for {@code SELLER}, rejected for
 *       {@code SELF};
 *   <li>{@code base-url} — default {@code https://api.commerce.naver.com};
 *   <li>{@code renew-before} — how long before expiry to renew, default {@code 25m}, at most {@code
 *       30m};
 *   <li>{@code timestamp-margin} — how far the signed timestamp is back-dated, default {@code 3s},
 *       at most {@code 1m}.
 * </ul>
 *
 * A solution vendor serving many sellers configures one connection per seller, each with the same
 * application and its own {@code account-id}.
 *
 * <p>Thread-safe and stateless; {@link #create} throws {@link ConfigurationException} naming the
 * connection and the setting, never repeating a secret.
 */
public final class NaverProviderFactory implements TokenProviderFactory {
  /** The value of {@code provider:} this factory serves. */
  public static final String NAME = "naver";

  static final String DEFAULT_BASE_URL = "https://api.commerce.naver.com";
  static final String TOKEN_PATH = "external/v1/oauth2/token";

  /**
   * Naver hands the same token back while 30 minutes or more remain, so renewing earlier is wasted.
   */
  static final Duration SAME_TOKEN_WINDOW = Duration.ofMinutes(30);

  static final Duration DEFAULT_RENEW_BEFORE = Duration.ofMinutes(25);
  static final Duration EXPIRY_SKEW = Duration.ofSeconds(30);
  static final Duration DEFAULT_TIMESTAMP_MARGIN = Duration.ofSeconds(3);
  static final Duration MAX_TIMESTAMP_MARGIN = Duration.ofMinutes(1);

  private static final Set<String> KNOWN =
      Set.of(
          "client-id",
          "client-secret",
          "type",
          "account-id",
          "base-url",
          "renew-before",
          "timestamp-margin");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    settings.rejectUnknown(KNOWN);
    String clientId = settings.require("client-id");
    String secret = settings.require("client-secret");
    String problem = NaverSignature.secretProblem(secret);
    if (problem != null) {
      throw settings.invalid("client-secret", problem);
    }

    NaverTokenProvider.Type type = type(settings);
    String accountId = settings.optional("account-id");
    if (type == NaverTokenProvider.Type.SELLER && accountId == null) {
      throw settings.invalid(
          "account-id", "is required with type SELLER: the seller's id or uid to act for");
    }
    if (type == NaverTokenProvider.Type.SELF && accountId != null) {
      throw settings.invalid(
          "account-id",
          "is only used with type SELLER; remove it, or set type: SELLER to act for that seller");
    }

    HttpUrl base = settings.url("base-url", DEFAULT_BASE_URL);
    HttpUrl tokenUrl = base.newBuilder().addPathSegments(TOKEN_PATH).build();

    Duration renewBefore = settings.duration("renew-before", DEFAULT_RENEW_BEFORE);
    if (renewBefore.compareTo(SAME_TOKEN_WINDOW) > 0) {
      throw settings.invalid(
          "renew-before",
          "must be at most 30m: Naver returns the same token while 30 minutes or more remain, so"
              + " renewing earlier only fetches the same token again");
    }
    if (renewBefore.compareTo(EXPIRY_SKEW) < 0) {
      throw settings.invalid(
          "renew-before",
          "must be at least " + EXPIRY_SKEW.getSeconds() + "s (the margin treated as expired)");
    }
    Duration margin = settings.duration("timestamp-margin", DEFAULT_TIMESTAMP_MARGIN);
    if (margin.compareTo(MAX_TIMESTAMP_MARGIN) > 0) {
      throw settings.invalid(
          "timestamp-margin",
          "must be at most 1m: Naver accepts a signed timestamp for 5 minutes only");
    }

    return new NaverTokenProvider(
        context,
        clientId,
        secret,
        type,
        accountId,
        tokenUrl,
        RenewalPolicy.of(renewBefore, EXPIRY_SKEW),
        margin);
  }

  private static NaverTokenProvider.Type type(Settings settings) {
    String value = settings.optional("type", "SELF");
    try {
      return NaverTokenProvider.Type.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw settings.invalid("type", "must be SELF or SELLER");
    }
  }
}
