package dev.tokenbroker.kakao;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;

/**
 * Builds Kakao providers for connections configured with {@code provider: kakao}. Found by {@link
 * java.util.ServiceLoader}; applications normally never touch this class.
 *
 * <p>Settings:
 *
 * <table>
 *   <caption>Kakao connection settings</caption>
 *   <tr><th>setting</th><th>required</th><th>meaning</th></tr>
 *   <tr><td>{@code client-id}</td><td>yes</td><td>the app's REST API key</td></tr>
 *   <tr><td>{@code client-secret}</td><td>when enabled for the app</td><td>the client secret
 *       from the console's security settings (not the Admin key); sent in the form body</td></tr>
 *   <tr><td>{@code redirect-uri}</td><td>yes</td><td>a redirect URI registered for the app,
 *       exactly</td></tr>
 *   <tr><td>{@code scopes}</td><td>no</td><td>consent items to ask for; none asks for the app's
 *       configured items</td></tr>
 *   <tr><td>{@code app-id}</td><td>when {@code validate-on-load}</td><td>the app's numeric ID:
 *       a token whose token info names another app is rejected</td></tr>
 *   <tr><td>{@code validate-on-load}</td><td>no, default false</td><td>check a token set read
 *       from the store with token info once before it is used</td></tr>
 *   <tr><td>{@code pkce}</td><td>no, default true</td><td>send a PKCE S256 challenge</td></tr>
 *   <tr><td>{@code renew-before}</td><td>no, default 5m, at most 1h</td><td>renew this long before the
 *       access token expires</td></tr>
 *   <tr><td>{@code keep-alive-before}</td><td>no, default 21d, at most 28d</td><td>refresh an
 *       idle connection this long before its refresh token expires, so Kakao issues a new
 *       one</td></tr>
 *   <tr><td>{@code auth-base-url}, {@code api-base-url}</td><td>no</td><td>default {@code
 *       https://kauth.kakao.com} and {@code https://kapi.kakao.com}</td></tr>
 *   <tr><td>{@code admin-key}</td><td>for {@link KakaoUnlinkCallback#from}</td><td>the app's
 *       primary admin key, which Kakao sends with unlink callbacks; a secret, never
 *       echoed</td></tr>
 * </table>
 *
 * <p><b>Templates.</b> An app declared as {@code kakao:{user}} starts an authorization without a
 * user: {@link dev.tokenbroker.spi.TokenProvider#subjectOf} asks token info for the user id after
 * the code exchange, and the broker names the connection with it ({@code kakao:3141592653}). A
 * connection made for a known user ({@link dev.tokenbroker.spi.ProviderContext#subject()} set) only
 * accepts tokens whose token info names that user.
 */
public final class KakaoProviderFactory implements TokenProviderFactory {
  /** The provider name: {@code provider: kakao}, connection ids {@code kakao:…}. */
  public static final String NAME = "kakao";

  /** Token set extra: the Kakao user id, recorded by {@code validate}. */
  public static final String USER_ID = "user_id";

  /** Token set extra: the app id token info reported, recorded by {@code validate}. */
  public static final String APP_ID = "app_id";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    return new KakaoTokenProvider(new KakaoConfig(settings, context.subject()), context);
  }
}
