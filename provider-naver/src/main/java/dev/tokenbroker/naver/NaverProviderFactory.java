package dev.tokenbroker.naver;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.util.Set;

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
 *   <li>{@code agency} — {@code true} for an agency application (API대행사), which serves every seller
 *       who designates it; default {@code false};
 *   <li>{@code type} — {@code SELF} (the application's own store) or {@code SELLER} (a related
 *       seller, for solution vendors and agencies); default {@code SELLER} for an agency or a
 *       template connection ({@code naver:seller:{account}}), {@code SELF} otherwise;
 *   <li>{@code account-id} — the seller's id or uid; required for {@code SELLER}, rejected for
 *       {@code SELF}; for a template connection it defaults to the template's subject, and if both
 *       are given they must be equal;
 *   <li>{@code api-path-prefix} — the first path segment of the application's resources and token
 *       endpoint: default {@code /partner} for an agency, {@code /external} otherwise; the token is
 *       asked at {@code {base-url}{api-path-prefix}/v1/oauth2/token}, and token sets carry the
 *       prefix as the {@code api_path_prefix} extra for building API URLs;
 *   <li>{@code base-url} — default {@code https://api.commerce.naver.com};
 *   <li>{@code renew-before} — how long before expiry to renew, default {@code 25m}, at most {@code
 *       30m};
 *   <li>{@code timestamp-margin} — how far the signed timestamp is back-dated, default {@code 3s},
 *       at most {@code 1m}.
 * </ul>
 *
 * A solution vendor or agency serving many sellers declares the application once as a template,
 * {@code naver:seller:{account}}: each seller's connection is the template with that seller's
 * account id.
 *
 * <p>Thread-safe and stateless; {@link #create} throws {@link ConfigurationException} naming the
 * connection and the setting, never repeating a secret.
 */
public final class NaverProviderFactory implements TokenProviderFactory {
  /** The value of {@code provider:} this factory serves. */
  public static final String NAME = "naver";

  static final String DEFAULT_BASE_URL = "https://api.commerce.naver.com";

  /** The token endpoint under an {@code api-path-prefix}. */
  static final String TOKEN_PATH_UNDER_PREFIX = "v1/oauth2/token";

  /** {@code api-path-prefix} of an agency application (API대행사). */
  public static final String AGENCY_PREFIX = "/partner";

  /** {@code api-path-prefix} of every other application. */
  public static final String DEFAULT_PREFIX = "/external";

  /** Token set extra: the {@code api-path-prefix} the application's resources live under. */
  public static final String API_PATH_PREFIX_EXTRA = "api_path_prefix";

  /**
   * Naver hands the same token back while 30 minutes or more remain, so renewing earlier is wasted.
   */
  static final Duration SAME_TOKEN_WINDOW = Duration.ofMinutes(30);

  static final Duration DEFAULT_RENEW_BEFORE = Duration.ofMinutes(25);

  private static final Set<String> KNOWN =
      Set.of(
          "client-id",
          "client-secret",
          "type",
          "agency",
          "api-path-prefix",
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
    return new NaverTokenProvider(settings, context);
  }
}
