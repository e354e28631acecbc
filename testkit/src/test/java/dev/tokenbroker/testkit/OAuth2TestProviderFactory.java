package dev.tokenbroker.testkit;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.util.List;

/**
 * Builds {@link OAuth2TestProvider}s for {@code provider: oauth2-test} connections, so a
 * configuration file in a test can point a connection at an {@link OAuth2Emulator}. Registered in
 * the testkit's test jar only ({@code src/test/resources/META-INF/services}): on a test class path
 * that adds that jar, never in the product.
 *
 * <pre>
 * connections:
 *   oauth2-test:demo:
 *     base-url: http://127.0.0.1:8089
 *     client-id: app
 *     client-secret: ${OAUTH2_SECRET}
 *     redirect-uri: http://127.0.0.1:8089/callback
 *     grant: authorization_code        # or client_credentials
 *     pkce: true                       # default false
 *     renew-before: 60s                # default 60s; the last min(5s, renew-before) is expired
 *     rotating-refresh-tokens: true    # default true
 *     scope: [read, write]             # default: the server's
 * </pre>
 */
public final class OAuth2TestProviderFactory implements TokenProviderFactory {
  private static final List<String> KNOWN =
      List.of(
          "base-url",
          "client-id",
          "client-secret",
          "redirect-uri",
          "grant",
          "pkce",
          "renew-before",
          "rotating-refresh-tokens",
          "scope");

  /** For {@link java.util.ServiceLoader}. */
  public OAuth2TestProviderFactory() {}

  @Override
  public String name() {
    return OAuth2TestProvider.DEFAULT_NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    settings.rejectUnknown(KNOWN);
    GrantType grant;
    String grantName = settings.optional("grant", "authorization_code");
    switch (grantName) {
      case "authorization_code":
        grant = GrantType.AUTHORIZATION_CODE;
        break;
      case "client_credentials":
        grant = GrantType.CLIENT_CREDENTIALS;
        break;
      default:
        throw settings.invalid("grant", "must be authorization_code or client_credentials");
    }
    OAuth2TestProvider.Builder b =
        OAuth2TestProvider.builder()
            .baseUrl(settings.checkedUrl("base-url", settings.require("base-url")))
            .client(settings.require("client-id"), settings.require("client-secret"))
            .grantType(grant)
            .rotatingRefreshTokens(settings.bool("rotating-refresh-tokens", true))
            .scopes(settings.list("scope"))
            .context(context);
    boolean pkce = settings.bool("pkce", false);
    if (grant == GrantType.AUTHORIZATION_CODE) {
      String redirect = settings.require("redirect-uri");
      b.redirectUri(settings.checkedUrl("redirect-uri", redirect).toString()).pkce(pkce);
    } else {
      if (settings.has("redirect-uri")) {
        throw settings.invalid("redirect-uri", "applies only to grant authorization_code");
      }
      if (pkce) {
        throw settings.invalid("pkce", "applies only to grant authorization_code");
      }
    }
    Duration renewBefore =
        settings.duration("renew-before", OAuth2TestProvider.DEFAULT_RENEW_BEFORE);
    if (renewBefore.isZero()) {
      throw settings.invalid("renew-before", "must be positive");
    }
    Duration skew =
        renewBefore.compareTo(OAuth2TestProvider.DEFAULT_EXPIRY_SKEW) < 0
            ? renewBefore
            : OAuth2TestProvider.DEFAULT_EXPIRY_SKEW;
    return b.renewalPolicy(RenewalPolicy.of(renewBefore, skew)).build();
  }

  @Override
  public String toString() {
    return "OAuth2TestProviderFactory{" + name() + '}';
  }
}
