package dev.tokenbroker.oauth2;

import dev.tokenbroker.oauth2.OAuth2Config.Expires;
import dev.tokenbroker.spi.ClientAuth;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.OAuthEndpoint;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Builds providers for standard OAuth 2.0 platforms ({@code provider: oauth2}) from configuration
 * alone. Connections are named {@code oauth2:<account>} ({@code oauth2:ebay}); settings usually
 * come from an {@code apps:} entry.
 *
 * <table>
 *   <caption>oauth2 settings</caption>
 *   <tr><th>setting</th><th></th><th>meaning</th></tr>
 *   <tr><td>{@code token-url}</td><td>required unless {@code issuer}</td><td>the token
 *       endpoint</td></tr>
 *   <tr><td>{@code authorize-url}</td><td>authorization_code, unless {@code issuer}</td>
 *       <td>the authorization endpoint</td></tr>
 *   <tr><td>{@code revocation-url}</td><td>optional</td><td>RFC 7009; without it {@code revoke}
 *       forgets the tokens locally only</td></tr>
 *   <tr><td>{@code issuer}</td><td>optional</td><td>RFC 8414: the URLs above are read from the
 *       issuer's metadata when the provider is built; explicit keys win</td></tr>
 *   <tr><td>{@code client-id}</td><td>required</td><td></td></tr>
 *   <tr><td>{@code client-secret}</td><td>required, except with {@code client-auth: none}</td>
 *       <td>never echoed</td></tr>
 *   <tr><td>{@code client-auth}</td><td>{@code basic} (default), {@code form}, {@code none}</td>
 *       <td>RFC 6749 §2.3.1 Basic, form body, or a public client</td></tr>
 *   <tr><td>{@code grant}</td><td>{@code authorization_code} (default) or {@code
 *       client_credentials}</td><td></td></tr>
 *   <tr><td>{@code redirect-uri}</td><td>authorization_code</td><td>a URL (https, or http on
 *       loopback) or an opaque name such as eBay's RuName (no white space)</td></tr>
 *   <tr><td>{@code pkce}</td><td>authorization_code, default false</td><td>PKCE S256</td></tr>
 *   <tr><td>{@code scope}</td><td>optional</td><td>a list</td></tr>
 *   <tr><td>{@code scope-separator}</td><td>default a space</td><td>what joins the scopes</td></tr>
 *   <tr><td>{@code refresh-scope}</td><td>authorization_code, default false</td><td>send the scope
 *       on refresh too</td></tr>
 *   <tr><td>{@code authorize-params}</td><td>authorization_code</td><td>extra query parameters of
 *       the authorize URL</td></tr>
 *   <tr><td>{@code token-params}</td><td>optional</td><td>extra form parameters of every token
 *       request</td></tr>
 *   <tr><td>{@code expires}</td><td>{@code in} (default) or {@code at}</td><td>read {@code
 *       expires_in} (seconds) or {@code expires_at} (epoch seconds or ISO-8601 with
 *       offset)</td></tr>
 *   <tr><td>{@code access-token-lifetime}</td><td>optional</td><td>used when an answer states no
 *       expiry; without it such an answer is refused</td></tr>
 *   <tr><td>{@code refresh-token-lifetime}</td><td>authorization_code, optional</td><td>used when
 *       an answer carries no {@code refresh_token_expires_in}</td></tr>
 *   <tr><td>{@code renew-before}</td><td>default 60s</td><td>renew this long before
 *       expiry</td></tr>
 *   <tr><td>{@code keep-alive-before}</td><td>authorization_code, optional</td><td>refresh an idle
 *       connection this long before its refresh token expires (for servers whose refresh renews
 *       the refresh token)</td></tr>
 * </table>
 *
 * <p>Every setting is checked when the broker is built; an error names the connection and the
 * setting, never a value. Thread-safe and stateless.
 */
public final class OAuth2ProviderFactory implements TokenProviderFactory {
  /** The {@code provider:} value this factory serves. */
  public static final String NAME = "oauth2";

  static final Duration DEFAULT_RENEW_BEFORE = Duration.ofSeconds(60);

  private static final Set<String> KNOWN =
      Set.of(
          "token-url",
          "authorize-url",
          "revocation-url",
          "issuer",
          "client-id",
          "client-secret",
          "client-auth",
          "grant",
          "redirect-uri",
          "pkce",
          "scope",
          "scope-separator",
          "refresh-scope",
          "authorize-params",
          "token-params",
          "expires",
          "access-token-lifetime",
          "refresh-token-lifetime",
          "renew-before",
          "keep-alive-before",
          "token-type");

  /** Only for the authorization-code grant. */
  private static final List<String> CODE_ONLY =
      List.of(
          "authorize-url",
          "redirect-uri",
          "pkce",
          "refresh-scope",
          "authorize-params",
          "refresh-token-lifetime",
          "keep-alive-before");

  private static final Set<String> RESERVED_AUTHORIZE =
      Set.of(
          "response_type",
          "client_id",
          "redirect_uri",
          "state",
          "scope",
          "code_challenge",
          "code_challenge_method");
  private static final Set<String> RESERVED_TOKEN =
      Set.of(
          "grant_type",
          "code",
          "redirect_uri",
          "code_verifier",
          "refresh_token",
          "client_id",
          "client_secret",
          "scope");

  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:.*");
  private static final Pattern PRINTABLE = Pattern.compile("[\\x21-\\x7e]+");

  /** For {@link java.util.ServiceLoader}. */
  public OAuth2ProviderFactory() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    return new OAuth2Provider(config(settings, context), context);
  }

  static OAuth2Config config(Settings s, ProviderContext context) {
    s.rejectUnknown(KNOWN);
    GrantType grant =
        s.oneOf("grant", "authorization_code", "authorization_code", "client_credentials")
                .equals("client_credentials")
            ? GrantType.CLIENT_CREDENTIALS
            : GrantType.AUTHORIZATION_CODE;
    boolean code = grant == GrantType.AUTHORIZATION_CODE;
    if (!code) {
      for (String key : CODE_ONLY) {
        if (s.asMap().get(key) != null) {
          throw s.invalid(key, "applies only to grant authorization_code");
        }
      }
    }
    String clientId =
        s.require("client-id", PRINTABLE, "must be printable characters without white space");
    ClientAuth auth = clientAuth(s);
    String secret = s.optional("client-secret");
    if (auth == ClientAuth.NONE && secret != null) {
      throw s.invalid(
          "client-secret", "must not be set with client-auth none (a public client has none)");
    }
    if (auth != ClientAuth.NONE && secret == null) {
      throw s.invalid(
          "client-secret", "is required with client-auth basic or form (or use client-auth none)");
    }

    boolean pkce = s.bool("pkce", false);
    OAuthEndpoint endpoint = endpoint(s, context, auth, code, pkce);
    List<String> scopes =
        s.list("scope", PRINTABLE, "has white space or control characters: one scope per item");
    Duration renewBefore = s.duration("renew-before", DEFAULT_RENEW_BEFORE);
    if (renewBefore.isZero()) {
      throw s.invalid("renew-before", "must be positive");
    }
    return new OAuth2Config(
        grant,
        endpoint,
        clientId,
        secret,
        code ? redirectUri(s) : null,
        pkce,
        scopes,
        scopeSeparator(s),
        s.bool("refresh-scope", false),
        params(s, "authorize-params", RESERVED_AUTHORIZE),
        params(s, "token-params", RESERVED_TOKEN),
        s.oneOf("expires", "in", "in", "at").equals("at") ? Expires.AT : Expires.IN,
        positive(s, "access-token-lifetime"),
        positive(s, "refresh-token-lifetime"),
        renewBefore,
        positive(s, "keep-alive-before"),
        tokenType(s));
  }

  /**
   * {@code token-type}: the scheme every access token is sent with, whatever the answer's {@code
   * token_type} says (eBay's names the kind of token: {@code "User Access Token"}). Unset: the
   * answer's, which must be Bearer.
   */
  private static @Nullable String tokenType(Settings s) {
    String v = s.optional("token-type");
    if (v != null && !v.equalsIgnoreCase("bearer")) {
      throw s.invalid("token-type", "must be Bearer (the only scheme this provider sends)");
    }
    return v == null ? null : "Bearer";
  }

  private static ClientAuth clientAuth(Settings s) {
    switch (s.oneOf("client-auth", "basic", "basic", "form", "none")) {
      case "form":
        return ClientAuth.FORM;
      case "none":
        return ClientAuth.NONE;
      default:
        return ClientAuth.BASIC;
    }
  }

  /** The endpoint: explicit URLs, the rest from the issuer's metadata when one is configured. */
  private static OAuthEndpoint endpoint(
      Settings s, ProviderContext context, ClientAuth auth, boolean code, boolean pkce) {
    HttpUrl token = url(s, "token-url");
    HttpUrl authorize = code ? url(s, "authorize-url") : null;
    HttpUrl revocation = url(s, "revocation-url");
    String issuer = s.optional("issuer");
    HttpUrl issuerUrl = issuer == null ? null : s.checkedUrl("issuer", issuer);
    if (issuerUrl != null && (token == null || (code && authorize == null) || revocation == null)) {
      Metadata m = Metadata.fetch(s, issuer, issuerUrl, context.tokenHttp(NAME));
      token = token != null ? token : m.tokenEndpoint;
      authorize = authorize != null || !code ? authorize : m.authorizationEndpoint;
      revocation = revocation != null ? revocation : m.revocationEndpoint;
      if (pkce && !m.codeChallengeMethods.isEmpty() && !m.codeChallengeMethods.contains("S256")) {
        throw s.invalid("pkce", "the issuer's metadata does not list S256 among its PKCE methods");
      }
    }
    if (token == null) {
      throw s.invalid(
          "token-url",
          issuer == null ? "is required (or set issuer)" : "is not in the issuer's metadata");
    }
    if (code && authorize == null) {
      throw s.invalid(
          "authorize-url",
          issuer == null
              ? "is required for grant authorization_code (or set issuer)"
              : "is not in the issuer's metadata");
    }
    return OAuthEndpoint.of(token, auth).withAuthorizeUrl(authorize).withRevocationUrl(revocation);
  }

  private static @Nullable HttpUrl url(Settings s, String key) {
    String v = s.optional(key);
    if (v == null) {
      return null;
    }
    HttpUrl url = s.checkedUrl(key, v);
    if (url.fragment() != null) {
      throw s.invalid(key, "must not contain a fragment (#…)");
    }
    return url;
  }

  /**
   * A URL (checked as one when it has a scheme) or an opaque registered name such as eBay's RuName,
   * kept exactly as written.
   */
  private static String redirectUri(Settings s) {
    String v = s.require("redirect-uri");
    if (SCHEME.matcher(v).matches()) {
      s.redirectUri("redirect-uri", v);
    } else if (!PRINTABLE.matcher(v).matches()) {
      throw s.invalid(
          "redirect-uri",
          "must be a URL or a registered name (such as an eBay RuName) without" + " white space");
    }
    return v;
  }

  /** Read untrimmed: a single space is the RFC 6749 separator. */
  private static String scopeSeparator(Settings s) {
    Object v = s.asMap().get("scope-separator");
    if (v == null) {
      return " ";
    }
    String sep = v.toString();
    if (sep.isEmpty() || sep.length() > 3 || sep.chars().anyMatch(Character::isLetterOrDigit)) {
      throw s.invalid("scope-separator", "must be one to three characters, no letters or digits");
    }
    return sep;
  }

  private static Map<String, String> params(Settings s, String key, Set<String> reserved) {
    Map<String, String> params = s.map(key);
    for (String name : params.keySet()) {
      if (reserved.contains(name)) {
        throw s.invalid(key, "must not set '" + name + "': the provider sends it itself");
      }
    }
    return params;
  }

  private static @Nullable Duration positive(Settings s, String key) {
    if (!s.has(key)) {
      return null;
    }
    Duration d = s.duration(key, Duration.ZERO);
    if (d.isZero()) {
      throw s.invalid(key, "must be positive");
    }
    return d;
  }
}
